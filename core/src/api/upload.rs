//! A file sent as `multipart/form-data`, streamed from disk rather than read into memory.

use std::path::PathBuf;

use bytes::Bytes;
use reqwest::multipart::{Form, Part};

use crate::error::{Error, Result};

/// Where an upload's bytes come from.
#[derive(Debug, Clone)]
pub enum UploadSource {
    /// A file on disk, streamed (opened anew for each attempt).
    Path(PathBuf),
    /// Bytes already in memory, with the file name to send.
    Bytes {
        /// The file's name as the service will see it.
        file_name: String,
        /// The contents.
        data: Bytes,
    },
}

/// A `multipart/form-data` body: a `file` part and text fields.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    pub source: UploadSource,
    pub fields: Vec<(&'static str, String)>,
}

impl Upload {
    /// Checks, before anything is sent, that the file is there and readable.
    pub(crate) fn check(&self) -> Result<()> {
        if let UploadSource::Path(path) = &self.source {
            let shown = path.display();
            let metadata =
                std::fs::metadata(path).map_err(|e| Error::invalid(format!("file {shown} cannot be read: {e}")))?;
            if !metadata.is_file() {
                return Err(Error::invalid(format!("file {shown} is not a regular file")));
            }
            std::fs::File::open(path).map_err(|e| Error::invalid(format!("file {shown} cannot be read: {e}")))?;
        }
        Ok(())
    }

    /// The file's name as sent, and its size in bytes (0 when it cannot be read), as a cassette
    /// records an upload.
    pub(crate) fn file_name_and_size(&self) -> (String, u64) {
        match &self.source {
            UploadSource::Path(path) => (
                path.file_name().map_or_else(|| "upload".into(), |n| n.to_string_lossy().into_owned()),
                std::fs::metadata(path).map_or(0, |m| m.len()),
            ),
            UploadSource::Bytes { file_name, data } => (file_name.clone(), data.len() as u64),
        }
    }

    /// The form of one attempt: the file is opened and streamed with its length.
    pub(crate) async fn form(&self) -> Result<Form> {
        let part = match &self.source {
            UploadSource::Path(path) => {
                let shown = path.display();
                let file = tokio::fs::File::open(path)
                    .await
                    .map_err(|e| Error::invalid(format!("file {shown} cannot be read: {e}")))?;
                let len = file.metadata().await.map_err(|e| Error::invalid(format!("file {shown}: {e}")))?.len();
                let stream = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024);
                let name = path.file_name().map_or_else(|| "upload".into(), |n| n.to_string_lossy().into_owned());
                Part::stream_with_length(reqwest::Body::wrap_stream(stream), len).file_name(name)
            }
            UploadSource::Bytes { file_name, data } => Part::stream(data.clone()).file_name(file_name.clone()),
        };
        let part = part.mime_str("application/octet-stream").map_err(|e| Error::invalid(e.to_string()))?;
        let mut form = Form::new();
        for (name, value) in &self.fields {
            form = form.text(*name, value.clone());
        }
        Ok(form.part("file", part))
    }
}
