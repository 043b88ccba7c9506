//! The public web form: `POST /v1/public/{slug}/tickets` takes a request from anyone on
//! the tenant's website, without signing in. The slug finds the tenant (a global marker
//! its service settings claim). Every submission is counted against a limit per sender
//! address (an IPv6 /64) before anything else is done, so a flood is refused cheaply;
//! what would become a ticket is also counted against the company's limit. A filled-in
//! honeypot field is spam, dropped silently; a text full of links is refused. The sender
//! becomes a contact (an existing one with the same email is reused), the request a ticket
//! (channel `web_form`, assigned by the rules), and the sender is mailed its number.

use serde::Deserialize;

use super::{NewTicket, settings};
use crate::AppState;
use crate::auth::throttle::{self, Limit};
use crate::contacts::service::ContactQuery;
use crate::directory::Tenant;
use crate::error::Error;
use crate::i18n::Lang;
use crate::ids::TenantId;
use crate::mail::Mail;
use crate::principal::Principal;
use crate::principal::RequestMeta;
use crate::validation::{Errors, normalize_email};

/// Submissions per sender address (an IPv6 /64) and hour, per form.
pub const PER_ADDRESS: Limit = Limit {
    max: 10,
    window_secs: 3600,
};
/// Submissions per tenant and hour.
pub const PER_TENANT: Limit = Limit {
    max: 500,
    window_secs: 3600,
};
/// Most links a genuine request carries.
const MAX_LINKS: usize = 5;

/// The body of a web-form submission.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebFormTicket {
    pub name: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub subject: String,
    pub description: String,
    pub category: Option<String>,
    /// A honeypot: hidden from people by the form, filled in by bots. Must stay empty.
    pub website: Option<String>,
}

fn not_found() -> Error {
    Error::NotFound("No web form at this address.".into())
}

/// Who a sender is for the per-address limit: an IPv4 address, or an IPv6 /64 (one
/// subscriber's network hands out many addresses).
fn sender_network(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => ip.to_owned(),
    }
}

/// The company whose web form is at `slug`, if it is on and the company active.
async fn tenant_of(state: &AppState, slug: &str) -> Result<Tenant, Error> {
    if slug.len() > 50 {
        return Err(not_found());
    }
    let marker = state
        .table
        .get(&settings::slug_key(slug))
        .await?
        .ok_or_else(not_found)?;
    let tenant = marker
        .get("tenant")
        .and_then(|t| t.as_str())
        .and_then(TenantId::parse)
        .ok_or_else(not_found)?;
    let company = crate::directory::get_tenant(state.table.as_ref(), &tenant)
        .await?
        .filter(|t| t.status == crate::directory::Status::Active)
        .ok_or_else(not_found)?;
    let current = settings::load(state, &tenant).await?.web_form_slug;
    if current.as_deref() != Some(slug) {
        return Err(not_found());
    }
    Ok(company)
}

fn check(input: &WebFormTicket) -> Result<(), Error> {
    let mut errors = Errors::new();
    errors.opt_text("name", input.name.as_deref(), 200);
    errors.email("email", &input.email);
    if let Some(phone) = &input.phone {
        errors.phone("phone", phone);
    }
    errors.text("subject", &input.subject, 1, 300);
    errors.text("description", &input.description, 1, 20_000);
    errors.opt_text("category", input.category.as_deref(), 100);
    let links = input.description.matches("http://").count()
        + input.description.matches("https://").count();
    if links > MAX_LINKS {
        errors.add(
            "description",
            format!("has more than {MAX_LINKS} links; please send fewer"),
        );
    }
    errors.finish().map_err(Error::Validation)
}

/// Takes one submission. `Ok` also for spam, which is dropped without a word (so bots
/// learn nothing).
pub async fn submit(
    state: &AppState,
    slug: &str,
    request: RequestMeta,
    input: WebFormTicket,
) -> Result<(), Error> {
    let now = state.clock.now().unix_timestamp();
    let table = state.table.as_ref();
    let network = sender_network(&request.ip);
    // Unknown addresses are counted too, so probing for forms is slow.
    throttle::attempt(
        table,
        &format!("web-form:{slug}:{network}"),
        PER_ADDRESS,
        now,
        "Too many requests from your address; please try again later.",
    )
    .await?;
    let company = tenant_of(state, slug).await?;
    let tenant = company.id.clone();
    check(&input)?;
    if input
        .website
        .as_deref()
        .is_some_and(|w| !w.trim().is_empty())
    {
        tracing::info!(tenant_id = %tenant, "web form spam dropped (honeypot)");
        return Ok(());
    }
    // The company's own limit counts only what would become a ticket, so junk from many
    // addresses cannot close the form for everyone.
    throttle::attempt(
        table,
        &format!("web-form:{tenant}"),
        PER_TENANT,
        now,
        "This form is receiving too many requests; please try again later.",
    )
    .await?;
    let system = Principal::system(tenant.clone(), "web-form", request);
    let email = normalize_email(&input.email);
    let contact_id = sender(state, &system, &input, &email).await?;
    let ticket = crate::engine::create(
        state,
        &system,
        &super::service::Tickets,
        NewTicket {
            subject: input.subject,
            description: Some(input.description),
            contact_id: Some(contact_id),
            channel: Some(super::Channel::WebForm),
            category: input.category,
            ..NewTicket::default()
        },
        Default::default(),
    )
    .await?;
    let lang = Lang::of_locale(&company.locale);
    let company = company.company_name;
    let number = ticket.body["number"].as_str().unwrap_or_default();
    // Nothing the sender wrote is repeated: the form cannot be used to mail others
    // someone's text in the company's name.
    let mail = Mail {
        to: email,
        subject: match lang {
            Lang::En => format!("[{number}] {company}: we received your request"),
            Lang::Zh => format!("[{number}] {company}：我们已收到您的请求"),
        },
        text: match lang {
            Lang::En => format!(
                "{company} received your request and will answer soon.\n\nYour reference: {number}\n"
            ),
            Lang::Zh => {
                format!("{company} 已收到您的请求，将尽快答复。\n\n您的受理编号：{number}\n")
            }
        },
    };
    if let Err(e) = state.mailer.send(&mail).await {
        tracing::warn!(error = %e, ticket_id = %ticket.id(), "web form receipt not mailed");
    }
    Ok(())
}

/// The contact with the sender's email (the first one made, if several), or a new one.
async fn sender(
    state: &AppState,
    system: &Principal,
    input: &WebFormTicket,
    email: &str,
) -> Result<String, Error> {
    let found = crate::contacts::service::list(
        state,
        system,
        ContactQuery {
            email: Some(email.to_owned()),
            limit: Some(50),
            ..ContactQuery::default()
        },
        Default::default(),
    )
    .await?;
    if let Some(id) = found
        .data
        .iter()
        .filter_map(|c| c.body.get("id").and_then(|v| v.as_str()))
        .min()
    {
        return Ok(id.to_owned());
    }
    let name = input
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(email);
    let mut contact = serde_json::json!({
        "name": name,
        "emails": [{ "address": email }],
        "source": "web form",
    });
    if let Some(phone) = &input.phone {
        contact["phones"] = serde_json::json!([{ "number": phone }]);
    }
    let input = serde_json::from_value(contact)
        .map_err(|e| Error::Internal(format!("web form contact: {e}")))?;
    let made = crate::contacts::service::create(state, system, input)
        .await
        .map_err(|e| match e {
            // The phone is the only part the contact checks that the form did not.
            Error::Validation(_) => Error::validation("phone", "is not a valid phone number"),
            e => e,
        })?;
    made.body
        .get("id")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| Error::Internal("a new contact without an id".into()))
}
