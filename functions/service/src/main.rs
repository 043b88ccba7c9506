//! The `service` function on AWS Lambda.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(crm_service::routes()).await
}
