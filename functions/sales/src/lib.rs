//! The `sales` function: pipelines and their boards, deals (create, read, list, update
//! and move, delete, stage history), products, orders, tasks with their reminders, and
//! each user's notifications. Handlers only translate HTTP to calls of the services in
//! `shared`. One module per resource holds its handlers; [`routes`] lists every route in
//! one place.

use shared::deals::service::Deals;
use shared::http::{Routes, records};
use shared::orders::service::Orders;
use shared::products::Products;
use shared::tasks::service::Tasks;

mod deals;
mod notifications;
mod orders;
mod pipelines;
mod products;
mod tasks;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/pipelines", pipelines::list_pipelines)
        .post("/v1/pipelines", pipelines::create_pipeline)
        .get("/v1/pipelines/{id}", pipelines::get_pipeline)
        .patch("/v1/pipelines/{id}", pipelines::update_pipeline)
        .delete("/v1/pipelines/{id}", pipelines::delete_pipeline)
        .get("/v1/pipelines/{id}/board", pipelines::board)
        .post(
            "/v1/pipelines/{id}/stages/{stage_id}/move-deals",
            pipelines::move_deals,
        )
        .post("/v1/deals", records::create::<Deals>)
        .get("/v1/deals", deals::list)
        .get("/v1/deals/{id}", records::get::<Deals>)
        .patch("/v1/deals/{id}", records::update::<Deals>)
        .delete("/v1/deals/{id}", records::delete::<Deals>)
        .get("/v1/deals/{id}/stage-history", deals::history)
        .post("/v1/products", records::create::<Products>)
        .get("/v1/products", products::list_products)
        .get("/v1/products/{id}", records::get::<Products>)
        .patch("/v1/products/{id}", records::update::<Products>)
        .delete("/v1/products/{id}", records::delete::<Products>)
        .post("/v1/orders", orders::create_order)
        .get("/v1/orders", orders::list_orders)
        .get("/v1/orders/{id}", records::get::<Orders>)
        .patch("/v1/orders/{id}", records::update::<Orders>)
        .delete("/v1/orders/{id}", records::delete::<Orders>)
        .put(
            "/v1/orders/external/{source}/{external_id}",
            orders::upsert_external_order,
        )
        .post("/v1/orders/bulk", orders::bulk_upsert_orders)
        .get("/v1/contacts/{id}/purchases", orders::contact_purchases)
        .get("/v1/companies/{id}/purchases", orders::company_purchases)
        .post("/v1/tasks", records::create::<Tasks>)
        .get("/v1/tasks", tasks::list_tasks)
        .get("/v1/tasks/{id}", records::get::<Tasks>)
        .patch("/v1/tasks/{id}", records::update::<Tasks>)
        .delete("/v1/tasks/{id}", records::delete::<Tasks>)
        .get("/v1/notifications", notifications::list_notifications)
        .post(
            "/v1/notifications/{id}/read",
            notifications::read_notification,
        )
        .post(
            "/v1/notifications/read-all",
            notifications::read_all_notifications,
        )
}
