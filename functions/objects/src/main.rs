//! The `objects` function on AWS Lambda.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(crm_objects::routes()).await
}
