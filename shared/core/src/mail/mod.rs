//! The `Mailer` port: the product's own emails (invitations, password resets, reminders).
//! Twins: [`ses::SesMailer`] (Amazon SES) and [`file::FileMailer`] (a drop directory with
//! one JSON file per message, which an on-premises operator can relay or read).

pub mod file;
pub mod ses;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// A plain-text email to one recipient. The sender is the mailer's configured address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The service refused this message (e.g. an unverified sender).
    #[error("message refused: {0}")]
    Rejected(String),
    #[error("mail service unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}
