//! The `admin` function on AWS Lambda.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(crm_admin::routes()).await
}
