//! The TLS listener's certificate: self-signed for `127.0.0.1` and `localhost`, made at start.

use std::sync::Arc;

use tokio_rustls::TlsAcceptor;

/// An acceptor and the certificate clients must trust.
pub(crate) struct Tls {
    pub acceptor: TlsAcceptor,
    pub ca_pem: String,
}

impl Tls {
    /// A fresh certificate; `http2` offers `h2` in ALPN besides `http/1.1`.
    pub(crate) fn new(http2: bool) -> std::io::Result<Tls> {
        let invalid = |e: &dyn std::fmt::Display| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string());
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let certified = rcgen::generate_simple_self_signed(names).map_err(|e| invalid(&e))?;
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.key_pair.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid(&e))?
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .map_err(|e| invalid(&e))?;
        config.alpn_protocols = match http2 {
            true => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            false => vec![b"http/1.1".to_vec()],
        };
        Ok(Tls { acceptor: TlsAcceptor::from(Arc::new(config)), ca_pem: certified.cert.pem() })
    }
}
