//! Certificates for TLS tests, made when the test runs (no key is ever
//! committed): a CA, and servers and clients it signs, as PEM files in a
//! temporary directory that goes with the value. JKS and PKCS#12 copies
//! come from the JDK's `keytool` and `openssl`, as an operator would make
//! them; without those tools the `Err` is the reason for a skip.

use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
};

/// A CA and the files of what it signed.
#[derive(Debug)]
pub struct TestPki {
    dir: PathBuf,
    issuer: Issuer<'static, KeyPair>,
    ca: PathBuf,
}

/// A certificate signed by a [`TestPki`], with its key.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The certificate, then the CA's (PEM).
    pub chain: PathBuf,
    /// The private key (PKCS#8 PEM).
    pub key: PathBuf,
    /// Key and chain in one file: ZooKeeper's PEM key store.
    pub combined: PathBuf,
    /// The CA's certificate (PEM).
    pub ca: PathBuf,
    /// The subject as ZooKeeper's x509 scheme writes it.
    pub subject: String,
}

fn must<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e}"))
}

impl TestPki {
    /// A new CA named `name` (its subject `CN=<name> CA,O=zk-rs tests`).
    pub fn new(name: &str) -> TestPki {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("zk-pki-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        must(std::fs::create_dir_all(&dir), "the PKI directory");
        let key = must(KeyPair::generate(), "a CA key");
        let mut params = must(CertificateParams::new(Vec::<String>::new()), "CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name = subject(&format!("{name} CA"));
        let cert = must(params.self_signed(&key), "the CA certificate");
        let ca = dir.join("ca.pem");
        must(std::fs::write(&ca, cert.pem()), "ca.pem");
        // For openssl, which signs the v1 certificates.
        must(
            std::fs::write(dir.join("ca.key.pem"), key.serialize_pem()),
            "ca.key.pem",
        );
        TestPki {
            issuer: Issuer::new(params, key),
            dir,
            ca,
        }
    }

    /// The CA's certificate (PEM): the trust store.
    pub fn ca(&self) -> &Path {
        &self.ca
    }

    /// The temporary directory the files are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A certificate for `cn` valid for `names` (DNS names or IPs), as
    /// files named after `file`.
    pub fn issue(&self, file: &str, cn: &str, names: &[&str]) -> Issued {
        let key = must(KeyPair::generate(), "a key");
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = must(CertificateParams::new(names), "params");
        params.distinguished_name = subject(cn);
        let cert = must(params.signed_by(&key, &self.issuer), "a certificate");
        let ca_pem = must(std::fs::read_to_string(&self.ca), "ca.pem");
        let chain_pem = format!("{}{ca_pem}", cert.pem());
        let files = Issued {
            chain: self.dir.join(format!("{file}.crt.pem")),
            key: self.dir.join(format!("{file}.key.pem")),
            combined: self.dir.join(format!("{file}.pem")),
            ca: self.ca.clone(),
            subject: format!("CN={cn},O=zk-rs tests"),
        };
        must(std::fs::write(&files.chain, &chain_pem), "chain");
        must(std::fs::write(&files.key, key.serialize_pem()), "key");
        must(
            std::fs::write(
                &files.combined,
                format!("{}{chain_pem}", key.serialize_pem()),
            ),
            "key and chain",
        );
        files
    }

    /// An X.509 version 1 certificate (no extensions) with an RSA key, as
    /// `openssl x509 -req` makes it without `-extfile` (and as kazoo's test
    /// harness does).
    pub fn issue_v1(&self, file: &str, cn: &str) -> Result<Issued, String> {
        let key = self.dir.join(format!("{file}.key.pem"));
        let csr = self.dir.join(format!("{file}.csr"));
        let cert = self.dir.join(format!("{file}.crt"));
        run(Command::new("openssl").args([
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            path(&key),
            "-subj",
            &format!("/O=zk-rs tests/CN={cn}"),
            "-out",
            path(&csr),
        ]))?;
        run(Command::new("openssl").args([
            "x509",
            "-req",
            "-in",
            path(&csr),
            "-CA",
            path(&self.ca),
            "-CAkey",
            path(&self.dir.join("ca.key.pem")),
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            path(&cert),
        ]))?;
        let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| e.to_string());
        let chain_pem = format!("{}{}", read(&cert)?, read(&self.ca)?);
        let files = Issued {
            chain: self.dir.join(format!("{file}.crt.pem")),
            key: key.clone(),
            combined: self.dir.join(format!("{file}.pem")),
            ca: self.ca.clone(),
            subject: format!("CN={cn},O=zk-rs tests"),
        };
        std::fs::write(&files.chain, &chain_pem).map_err(|e| e.to_string())?;
        std::fs::write(&files.combined, format!("{}{chain_pem}", read(&key)?))
            .map_err(|e| e.to_string())?;
        Ok(files)
    }

    /// The CA as a JKS trust store (keytool).
    pub fn trust_jks(&self, password: &str) -> Result<PathBuf, String> {
        self.trust_store("JKS", "trust.jks", password)
    }

    /// The CA as a PKCS#12 trust store (keytool: the entry marked trusted).
    pub fn trust_pkcs12(&self, password: &str) -> Result<PathBuf, String> {
        self.trust_store("PKCS12", "trust.p12", password)
    }

    fn trust_store(&self, kind: &str, file: &str, password: &str) -> Result<PathBuf, String> {
        let out = self.dir.join(file);
        let _ = std::fs::remove_file(&out);
        run(Command::new("keytool").args([
            "-importcert",
            "-noprompt",
            "-alias",
            "ca",
            "-file",
            path(&self.ca),
            "-keystore",
            path(&out),
            "-storetype",
            kind,
            "-storepass",
            password,
        ]))?;
        Ok(out)
    }
}

impl Issued {
    /// Key and chain as PKCS#12 (openssl).
    pub fn pkcs12(&self, password: &str) -> Result<PathBuf, String> {
        let out = self.combined.with_extension("p12");
        run(Command::new("openssl").args([
            "pkcs12",
            "-export",
            "-in",
            path(&self.chain),
            "-inkey",
            path(&self.key),
            "-name",
            "key",
            "-out",
            path(&out),
            "-passout",
            &format!("pass:{password}"),
        ]))?;
        Ok(out)
    }

    /// Key and chain as JKS (openssl to PKCS#12, then keytool).
    pub fn jks(&self, password: &str) -> Result<PathBuf, String> {
        let p12 = self.pkcs12(password)?;
        let out = self.combined.with_extension("jks");
        let _ = std::fs::remove_file(&out);
        run(Command::new("keytool").args([
            "-importkeystore",
            "-noprompt",
            "-srckeystore",
            path(&p12),
            "-srcstoretype",
            "PKCS12",
            "-srcstorepass",
            password,
            "-destkeystore",
            path(&out),
            "-deststoretype",
            "JKS",
            "-deststorepass",
            password,
        ]))?;
        Ok(out)
    }
}

impl Drop for TestPki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn subject(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    // O first: RFC 2253 writes the last RDN first, so the subject reads
    // CN=...,O=...
    dn.push(DnType::OrganizationName, "zk-rs tests");
    dn.push(DnType::CommonName, cn);
    dn
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let what = format!("{cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| format!("needs {}: {e}", cmd.get_program().to_string_lossy()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
