//! From a remote's settings to an object store client: the URL's scheme picks the cloud,
//! credentials come from that cloud's environment variables and profiles, and the non-secret
//! `options` of `persist.toml` override the environment for this remote.

use super::RemoteError;
use crate::store::RemoteSettings;
use object_store::aws::{AmazonS3Builder, AwsCredential};
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ObjectStore, RetryConfig, StaticCredentialProvider};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// How hard a client retries a failing request before it reports the error.
#[derive(Debug, Clone, Copy)]
pub enum Patience {
    /// push, pull, verify, gc: ride out a flaky network.
    Transfer,
    /// A read someone waits for (show, a preview, a cache hit): fail fast.
    Interactive,
}

impl Patience {
    fn retry(self) -> RetryConfig {
        let (max_retries, timeout) = match self {
            Patience::Transfer => (6, Duration::from_secs(60)),
            Patience::Interactive => (2, Duration::from_secs(10)),
        };
        RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(5),
                base: 2.0,
            },
            max_retries,
            retry_timeout: timeout,
        }
    }
}

/// A connected remote: the client, and the folder of the bucket celltime owns.
pub struct Endpoint {
    pub client: Arc<dyn ObjectStore>,
    pub prefix: ObjectPath,
    /// `scheme://bucket/` (or `file:///folder/`), for naming objects in messages.
    pub base: String,
}

/// The schemes celltime accepts, as users write them.
pub const SCHEMES: &str =
    "s3://bucket/prefix, gs://bucket/prefix, az://container/prefix or file:///folder";

/// The same steps for every cloud's builder: the remote's options, the retry policy, build.
macro_rules! cloud {
    ($builder:expr, $settings:expr, $patience:expr, $prefix:expr, $url:expr) => {{
        let mut builder = $builder;
        for (key, value) in &$settings.options {
            let parsed = key.parse().map_err(|_| unknown($settings, key))?;
            builder = builder.with_config(parsed, value);
        }
        let client =
            builder
                .with_retry($patience.retry())
                .build()
                .map_err(|e| RemoteError::Settings {
                    remote: $settings.name.clone(),
                    message: super::describe(&e),
                })?;
        Ok(endpoint(Arc::new(client), $prefix, &$url))
    }};
}

pub fn connect(settings: &RemoteSettings, patience: Patience) -> Result<Endpoint, RemoteError> {
    let fail = |message: String| RemoteError::Settings {
        remote: settings.name.clone(),
        message,
    };
    let url = Url::parse(&settings.url).map_err(|e| {
        fail(format!(
            "{:?} is not a URL ({e}); use {SCHEMES}",
            settings.url
        ))
    })?;
    let prefix = ObjectPath::from(url.path().trim_matches('/'));
    match url.scheme() {
        "file" => local(settings, &url),
        "s3" | "s3a" => {
            let builder = aws_profile(AmazonS3Builder::from_env().with_url(url.as_str()));
            cloud!(builder, settings, patience, prefix, url)
        }
        "gs" => {
            let builder = GoogleCloudStorageBuilder::from_env().with_url(url.as_str());
            cloud!(builder, settings, patience, prefix, url)
        }
        "az" | "azure" | "abfs" | "abfss" => {
            let builder = MicrosoftAzureBuilder::from_env().with_url(url.as_str());
            cloud!(builder, settings, patience, prefix, url)
        }
        other => Err(fail(format!(
            "unknown scheme {other:?} in {:?}; use {SCHEMES}",
            settings.url
        ))),
    }
}

fn unknown(settings: &RemoteSettings, key: &str) -> RemoteError {
    RemoteError::Settings {
        remote: settings.name.clone(),
        message: format!("unknown option {key:?} for {}", settings.url),
    }
}

fn endpoint(client: Arc<dyn ObjectStore>, prefix: ObjectPath, url: &Url) -> Endpoint {
    Endpoint {
        client,
        prefix,
        base: format!("{}://{}/", url.scheme(), url.host_str().unwrap_or_default()),
    }
}

/// A folder (a NAS, a mounted share): it must exist, as a bucket must.
fn local(settings: &RemoteSettings, url: &Url) -> Result<Endpoint, RemoteError> {
    let fail = |message: String| RemoteError::Settings {
        remote: settings.name.clone(),
        message,
    };
    if !settings.options.is_empty() {
        return Err(fail("a file:// remote takes no options".into()));
    }
    let folder: PathBuf = url
        .to_file_path()
        .map_err(|()| fail(format!("{:?} is not a local folder URL", settings.url)))?;
    if !folder.is_dir() {
        return Err(fail(format!(
            "folder {} does not exist (create it, or mount the share)",
            folder.display()
        )));
    }
    let client =
        LocalFileSystem::new_with_prefix(&folder).map_err(|e| fail(super::describe(&e)))?;
    Ok(Endpoint {
        client: Arc::new(client),
        prefix: ObjectPath::default(),
        base: format!("file://{}/", folder.display()),
    })
}

/// AWS's shared files, which object_store leaves to the SDKs: with no key in the environment,
/// the profile `AWS_PROFILE` (or `default`) of `~/.aws/credentials` gives the key, and
/// `~/.aws/config` the region and endpoint when the environment has none.
fn aws_profile(mut builder: AmazonS3Builder) -> AmazonS3Builder {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".to_string());
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let file = |var: &str, name: &str| {
        env(var)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))
    };
    if env("AWS_ACCESS_KEY_ID").is_none()
        && let Some(section) = file("AWS_SHARED_CREDENTIALS_FILE", "credentials")
            .and_then(|path| ini_section(&path, &profile))
        && let (Some(key_id), Some(secret_key)) = (
            section.get("aws_access_key_id"),
            section.get("aws_secret_access_key"),
        )
    {
        builder =
            builder.with_credentials(Arc::new(StaticCredentialProvider::new(AwsCredential {
                key_id: key_id.to_string(),
                secret_key: secret_key.to_string(),
                token: section.get("aws_session_token").map(str::to_string),
            })));
    }
    let config_section = if profile == "default" {
        profile.clone()
    } else {
        format!("profile {profile}")
    };
    if let Some(section) =
        file("AWS_CONFIG_FILE", "config").and_then(|path| ini_section(&path, &config_section))
    {
        if env("AWS_REGION").is_none()
            && env("AWS_DEFAULT_REGION").is_none()
            && let Some(region) = section.get("region")
        {
            builder = builder.with_region(region);
        }
        if env("AWS_ENDPOINT_URL").is_none()
            && env("AWS_ENDPOINT").is_none()
            && let Some(endpoint) = section.get("endpoint_url")
        {
            builder = builder.with_endpoint(endpoint);
        }
    }
    builder
}

fn ini_section(path: &std::path::Path, name: &str) -> Option<ini::Properties> {
    let file = ini::Ini::load_from_file(path).ok()?;
    file.section(Some(name)).cloned()
}
