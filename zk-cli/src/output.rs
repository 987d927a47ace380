//! Where text goes. A command writes into an [`Out`] (stdout and stderr
//! pieces, in order); the shell hands it to the [`Printer`], which also
//! prints watch events as they arrive, one block at a time so that lines
//! never mix. In the interactive shell an event that arrives while the
//! prompt waits is printed below it, as zkCli does (rustyline's external
//! printer stalls buffered input, so it is not used).

use std::io::Write as _;
use std::sync::Mutex;

/// One command's output, stdout and stderr pieces in the order written.
#[derive(Debug, Default)]
pub struct Out {
    chunks: Vec<(Stream, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Out {
    /// A line on stdout.
    pub fn line(&mut self, text: impl AsRef<str>) {
        self.push(Stream::Stdout, format!("{}\n", text.as_ref()));
    }

    /// Text on stdout as it is (no newline added).
    pub fn text(&mut self, text: impl Into<String>) {
        self.push(Stream::Stdout, text.into());
    }

    /// A line on stderr.
    pub fn err(&mut self, text: impl AsRef<str>) {
        self.push(Stream::Stderr, format!("{}\n", text.as_ref()));
    }

    fn push(&mut self, stream: Stream, text: String) {
        match self.chunks.last_mut() {
            Some((s, t)) if *s == stream => t.push_str(&text),
            _ => self.chunks.push((stream, text)),
        }
    }

    /// Everything written to one stream, joined.
    #[cfg(test)]
    pub fn collected(&self, stream: Stream) -> String {
        self.chunks
            .iter()
            .filter(|(s, _)| *s == stream)
            .map(|(_, t)| t.as_str())
            .collect()
    }

    pub fn take(&mut self) -> Vec<(Stream, String)> {
        std::mem::take(&mut self.chunks)
    }
}

/// The one place that writes to the terminal.
#[derive(Debug, Default)]
pub struct Printer {}

static TERMINAL: Mutex<()> = Mutex::new(());

impl Printer {
    pub fn new() -> Printer {
        Printer {}
    }

    /// A command's output, straight to stdout and stderr.
    pub fn write(&self, out: &mut Out) {
        let _guard = TERMINAL.lock();
        for (stream, text) in out.take() {
            match stream {
                Stream::Stdout => {
                    let mut o = std::io::stdout().lock();
                    let _ = o.write_all(text.as_bytes());
                    let _ = o.flush();
                }
                Stream::Stderr => {
                    let mut e = std::io::stderr().lock();
                    let _ = e.write_all(text.as_bytes());
                    let _ = e.flush();
                }
            }
        }
    }

    /// An asynchronous block (a watch event) on stdout.
    pub fn event(&self, text: &str) {
        let _guard = TERMINAL.lock();
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(text.as_bytes());
        let _ = o.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_streams() {
        let mut out = Out::default();
        out.line("a");
        out.text("b");
        out.err("e1");
        out.line("c");
        out.err("e2");
        assert_eq!(out.collected(Stream::Stdout), "a\nbc\n");
        assert_eq!(out.collected(Stream::Stderr), "e1\ne2\n");
        let chunks = out.take();
        assert_eq!(chunks.len(), 4);
        assert_eq!(chunks[0], (Stream::Stdout, "a\nb".to_owned()));
    }
}
