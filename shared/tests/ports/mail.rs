//! One suite, two twins: every case runs against the mail drop directory and against SES
//! (on moto server, whose record of sent messages stands in for the recipient's inbox).

use std::sync::Arc;

use shared::mail::file::FileMailer;
use shared::mail::ses::SesMailer;
use shared::mail::{Mail, Mailer};

/// A mailer and a way to read what reached a recipient.
struct Twin {
    mailer: Arc<dyn Mailer>,
    inbox: Inbox,
}

enum Inbox {
    Dir(tempfile::TempDir),
    Moto(String),
}

impl Twin {
    fn file() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mailer = FileMailer::new(&dir.path().join("mail"), "no-reply@localhost");
        Self {
            mailer: Arc::new(mailer),
            inbox: Inbox::Dir(dir),
        }
    }

    async fn ses() -> Self {
        let (clients, ..) = crate::support::moto_resources().await;
        Self {
            mailer: Arc::new(SesMailer::new(clients.ses, crate::support::MAIL_FROM)),
            inbox: Inbox::Moto(crate::support::moto_url()),
        }
    }

    /// What `to` received, oldest first.
    async fn received(&self, to: &str) -> Vec<(String, String)> {
        let all: Vec<(String, String, String)> = match &self.inbox {
            Inbox::Dir(dir) => FileMailer::read_all(&dir.path().join("mail"))
                .unwrap()
                .into_iter()
                .map(|d| (d.mail.to, d.mail.subject, d.mail.text))
                .collect(),
            Inbox::Moto(url) => {
                // Our moto wrapper's record of what SES sent (see infra/moto_server.py).
                let sent: Vec<shared::mail::Mail> =
                    reqwest::get(format!("{url}/crm-test/ses-messages"))
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                sent.into_iter()
                    .map(|m| (m.to, m.subject, m.text))
                    .collect()
            }
        };
        all.into_iter()
            .filter(|(t, ..)| t == to)
            .map(|(_, subject, text)| (subject, text))
            .collect()
    }
}

fn recipient() -> String {
    format!("{}@example.com", crate::support::unique("to"))
}

async fn a_sent_message_reaches_its_recipient_only(twin: Twin) {
    let (to, other) = (recipient(), recipient());
    let mail = Mail {
        to: to.clone(),
        subject: "Your invitation".into(),
        text: "Open https://crm.example/accept?token=abc to join.".into(),
    };
    twin.mailer.send(&mail).await.unwrap();
    assert_eq!(
        twin.received(&to).await,
        [(mail.subject.clone(), mail.text.clone())]
    );
    assert!(twin.received(&other).await.is_empty());
}

async fn unicode_subjects_and_bodies_arrive_intact(twin: Twin) {
    let to = recipient();
    let mail = Mail {
        to: to.clone(),
        subject: "欢迎加入 Acme 贸易".into(),
        text: "您好，张伟：\n请点击链接设置密码。\n— Ünïcödé ✓".into(),
    };
    twin.mailer.send(&mail).await.unwrap();
    assert_eq!(twin.received(&to).await, [(mail.subject, mail.text)]);
}

async fn every_message_of_a_burst_arrives_in_order(twin: Twin) {
    let to = recipient();
    for i in 0..5 {
        let mail = Mail {
            to: to.clone(),
            subject: format!("Reminder {i}"),
            text: format!("Number {i}"),
        };
        twin.mailer.send(&mail).await.unwrap();
    }
    let subjects: Vec<String> = twin.received(&to).await.into_iter().map(|m| m.0).collect();
    assert_eq!(
        subjects,
        (0..5).map(|i| format!("Reminder {i}")).collect::<Vec<_>>()
    );
}

macro_rules! conformance {
    ($($case:ident),*) => {
        mod file {
            $(#[tokio::test]
            async fn $case() { super::$case(super::Twin::file()).await })*
        }
        mod ses {
            $(#[tokio::test]
            async fn $case() { super::$case(super::Twin::ses().await).await })*
        }
    };
}

conformance!(
    a_sent_message_reaches_its_recipient_only,
    unicode_subjects_and_bodies_arrive_intact,
    every_message_of_a_burst_arrives_in_order
);

#[cfg(unix)]
#[tokio::test]
async fn dropped_mail_is_readable_by_the_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let twin = Twin::file();
    let to = recipient();
    twin.mailer
        .send(&Mail {
            to,
            subject: "s".into(),
            text: "t".into(),
        })
        .await
        .unwrap();
    let Inbox::Dir(dir) = &twin.inbox else {
        unreachable!()
    };
    let mail_dir = dir.path().join("mail");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&mail_dir), 0o700);
    for entry in std::fs::read_dir(&mail_dir).unwrap() {
        assert_eq!(mode(&entry.unwrap().path()), 0o600);
    }
}
