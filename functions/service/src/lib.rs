//! The `service` function: tickets (with their comments and history), satisfaction
//! surveys and their analysis, and the public doors: the web form that opens tickets and
//! the survey links customers answer. Handlers only translate HTTP to calls of the
//! services in `shared`. One module per resource holds its handlers; [`routes`] lists
//! every route in one place.

use shared::http::{Routes, records};
use shared::tickets::service::Tickets;

mod public;
mod surveys;
mod tickets;

pub fn routes() -> Routes {
    Routes::new()
        .post("/v1/tickets", records::create::<Tickets>)
        .get("/v1/tickets", tickets::list)
        .get("/v1/tickets/{id}", records::get::<Tickets>)
        .patch("/v1/tickets/{id}", records::update::<Tickets>)
        .delete("/v1/tickets/{id}", records::delete::<Tickets>)
        .get("/v1/tickets/{id}/history", tickets::history)
        .get("/v1/tickets/{id}/comments", tickets::list_comments)
        .post("/v1/tickets/{id}/comments", tickets::comment)
        .post("/v1/surveys", surveys::create_survey)
        .get("/v1/surveys", surveys::list_surveys)
        .get("/v1/surveys/{id}", surveys::get_survey)
        .get("/v1/feedback/summary", surveys::feedback_summary)
        .post("/v1/public/{slug}/tickets", public::web_form_ticket)
        .get("/v1/public/surveys/{token}", public::public_survey)
        .post("/v1/public/surveys/{token}", public::answer_survey)
}
