//! Connection arguments shared by the commands that talk to the API.

use flightrec::source::api::{ApiClient, ApiConfig, AuthStyle, DEFAULT_BASE_URL, VERSION_NEW};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum AuthHeader {
    /// `Authorization: Bearer KEY` (what SDK 2.12.0 sends)
    Bearer,
    /// `x-api-key: KEY` (older SDKs, some gateways)
    XApiKey,
}

#[derive(clap::Args, Clone)]
pub struct ApiArgs {
    /// API key (never written to the database, logs or exports)
    #[arg(
        long,
        env = "ANTHROPIC_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    api_key: Option<String>,
    /// API base URL
    #[arg(long, env = "ANTHROPIC_BASE_URL", default_value = DEFAULT_BASE_URL, value_name = "URL")]
    base_url: String,
    /// How the key is sent
    #[arg(long, value_enum, default_value = "bearer")]
    auth_header: AuthHeader,
    /// The anthropic-version header
    #[arg(long, default_value = VERSION_NEW, value_name = "VERSION")]
    anthropic_version: String,
}

impl ApiArgs {
    /// The API base URL (for showing a request).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn client(&self) -> anyhow::Result<ApiClient> {
        let cfg = ApiConfig {
            base_url: self.base_url.clone(),
            api_key: self.api_key.clone().filter(|k| !k.is_empty()),
            auth_style: match self.auth_header {
                AuthHeader::Bearer => AuthStyle::Bearer,
                AuthHeader::XApiKey => AuthStyle::XApiKey,
            },
            version: self.anthropic_version.clone(),
        };
        Ok(ApiClient::new(cfg)?)
    }
}

/// A one-thread runtime for the recorder's network side: its tasks mostly wait on sockets, and
/// on a small machine extra worker threads only compete with the writer thread for the cores.
pub fn recorder_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// A multi-threaded runtime for the network commands.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// A channel that turns true on Ctrl-C or SIGTERM.
pub fn shutdown_signal() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(_) => {
                        let _ = ctrl_c.await;
                        let _ = tx.send(true);
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        let _ = tx.send(true);
    });
    rx
}
