//! The embedded mail twin: each message becomes `<dir>/<id>.json`, written atomically and
//! readable by the owner only (messages carry sign-in links).

use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Mail, MailError, Mailer};

pub struct FileMailer {
    dir: PathBuf,
    from: String,
}

/// A message as the drop directory keeps it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Dropped {
    pub id: String,
    pub from: String,
    #[serde(flatten)]
    pub mail: Mail,
}

impl FileMailer {
    pub fn new(dir: &Path, from: &str) -> Self {
        Self {
            dir: dir.to_owned(),
            from: from.to_owned(),
        }
    }

    /// Every message in `dir`, oldest first.
    pub fn read_all(dir: &Path) -> std::io::Result<Vec<Dropped>> {
        let mut names: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        // Ids are ULIDs, so names sort by time.
        names.sort();
        names
            .iter()
            .map(|p| {
                let bytes = std::fs::read(p)?;
                serde_json::from_slice(&bytes).map_err(std::io::Error::other)
            })
            .collect()
    }

    fn write(&self, mail: &Mail) -> std::io::Result<()> {
        let id = crate::ids::new_id(crate::ids::MessageId::PREFIX);
        let dropped = Dropped {
            id: id.clone(),
            from: self.from.clone(),
            mail: mail.clone(),
        };
        crate::private_files::create_dir(&self.dir)?;
        let tmp = self.dir.join(format!(".{id}.tmp"));
        let mut file = crate::private_files::file_options()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(&serde_json::to_vec_pretty(&dropped)?)?;
        file.sync_all()?;
        // Readers never see half a message.
        std::fs::rename(&tmp, self.dir.join(format!("{id}.json")))
    }
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let this = Self::new(&self.dir, &self.from);
        let mail = mail.clone();
        tokio::task::spawn_blocking(move || this.write(&mail))
            .await
            .map_err(|e| MailError::Unavailable(e.to_string()))?
            .map_err(|e| MailError::Unavailable(format!("mail drop: {e}")))
    }
}
