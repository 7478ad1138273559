//! Calls on attachments: upload, metadata, streamed download and delete.

use bytes::Bytes;
use reqwest::{Method, Response};

use super::super::error::{CallSite, JiraError};
use super::super::mapping;
use super::super::wire;
use super::transport::{Req, ReqBody, enc, same_origin, transport_error};
use super::{JiraClient, UploadSource};
use crate::model::Attachment;

/// An attachment download under way; read it in chunks or whole.
pub struct Download {
    /// The file name, from the attachment's metadata or `Content-Disposition`, if known.
    pub filename: Option<String>,
    /// The media type Jira gave, from `Content-Type`, if any.
    pub mime_type: Option<String>,
    /// The length in bytes, when Jira announced it.
    pub size: Option<u64>,
    site: CallSite,
    resp: Response,
}

impl Download {
    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>, JiraError> {
        self.resp
            .chunk()
            .await
            .map_err(|e| transport_error(self.site.clone(), e))
    }

    /// Reads the rest of the download into memory.
    pub async fn bytes(self) -> Result<Bytes, JiraError> {
        let site = self.site.clone();
        self.resp
            .bytes()
            .await
            .map_err(|e| transport_error(site, e))
    }

    /// Streams the bytes to a file; returns how many were written.
    pub async fn save_to(mut self, path: &std::path::Path) -> Result<u64, JiraError> {
        use tokio::io::AsyncWriteExt;
        let io = |site: &CallSite, source| JiraError::Io {
            site: site.clone(),
            source,
        };
        // Spooled attachments are the node's data: 0600.
        let mut f = crate::private_fs::create_file_async(path)
            .await
            .map_err(|e| io(&self.site, e))?;
        let mut n = 0u64;
        while let Some(c) = self.chunk().await? {
            f.write_all(&c).await.map_err(|e| io(&self.site, e))?;
            n += c.len() as u64;
        }
        f.flush().await.map_err(|e| io(&self.site, e))?;
        Ok(n)
    }
}

impl JiraClient {
    /// Uploads one file (multipart part `file`); Jira answers with the new attachments.
    pub async fn upload_attachment(
        &self,
        key: &str,
        filename: &str,
        mime_type: &str,
        source: UploadSource,
    ) -> Result<Vec<Attachment>, JiraError> {
        let mut r = Req::new(Method::POST, format!("issue/{}/attachments", enc(key))).issue(key);
        r.body = ReqBody::Upload {
            filename: filename.to_string(),
            mime: mime_type.to_string(),
            source,
        };
        let added: Vec<wire::Attachment> = self
            .answer(r, format!("attachments added to {key}"))
            .await?;
        Ok(added.into_iter().map(mapping::attachment).collect())
    }

    /// Starts downloading an attachment's bytes (Cloud: by id; DC: from its `content` URL).
    pub async fn download_attachment(&self, id: &str) -> Result<Download, JiraError> {
        let (path, meta) = match self.flavour().attachment_content_path(&enc(id)) {
            Some(p) => (p, None),
            None => {
                let r = Req::new(Method::GET, format!("attachment/{}", enc(id)));
                let meta: wire::AttachmentMeta = self.answer(r, format!("attachment {id}")).await?;
                let content = meta.content.clone();
                // An absolute URL elsewhere would get the instance's credentials: refused.
                if content.contains("://") && !same_origin(&content, &self.inner.base) {
                    return Err(JiraError::Config {
                        instance: self.name().to_string(),
                        reason: format!(
                            "attachment {id}'s content URL {content} is not on the instance's site {}; not fetched with its credentials",
                            self.inner.base
                        ),
                    });
                }
                (content, Some(meta))
            }
        };
        let url = self.url(&path);
        let site = self.site(&Method::GET, &url);
        let resp = self.send(Req::new(Method::GET, path)).await?;
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let filename = meta.and_then(|m| m.filename).or_else(|| {
            header("Content-Disposition").and_then(|d| {
                d.split("filename=").nth(1).map(|f| {
                    f.trim_matches(|c| c == '"' || c == ';' || c == ' ')
                        .to_string()
                })
            })
        });
        Ok(Download {
            filename,
            mime_type: header("Content-Type"),
            size: resp.content_length(),
            site,
            resp,
        })
    }

    /// Deletes an attachment by id.
    pub async fn delete_attachment(&self, id: &str) -> Result<(), JiraError> {
        self.send(Req::new(Method::DELETE, format!("attachment/{}", enc(id))))
            .await
            .map(drop)
    }
}
