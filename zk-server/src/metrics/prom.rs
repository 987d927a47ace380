//! The Prometheus text exposition of the samples, by the `prometheus`
//! crate's encoder, plus the process metrics (`process_*`) it collects
//! from /proc. Names as ZooKeeper's Prometheus provider has them: no
//! prefix, summaries with `quantile` labels, `_sum` and `_count`.

use prometheus::core::Collector;
use prometheus::proto::{self, MetricFamily, MetricType};
use prometheus::{Encoder, TextEncoder};

use super::{Sample, Value};

/// The Content-Type of what `render` returns.
pub const CONTENT_TYPE: &str = prometheus::TEXT_FORMAT;

/// The samples (text values left out: Prometheus takes numbers) and the
/// process's own metrics, in the text format.
pub fn render(samples: &[Sample]) -> String {
    let mut families: Vec<MetricFamily> = samples
        .iter()
        .filter_map(|(name, value)| family(name, value))
        .collect();
    families.extend(prometheus::process_collector::ProcessCollector::for_self().collect());
    let mut out = Vec::new();
    // Encoding fails only on a family without metrics, which we never build.
    if TextEncoder::new().encode(&families, &mut out).is_err() {
        out.clear();
    }
    String::from_utf8(out).unwrap_or_default()
}

fn family(name: &str, value: &Value) -> Option<MetricFamily> {
    let mut metric = proto::Metric::default();
    let kind = match value {
        Value::Text(_) => return None,
        Value::Gauge(v) => {
            let mut g = proto::Gauge::default();
            g.set_value(*v);
            metric.set_gauge(g);
            MetricType::GAUGE
        }
        Value::Counter(v) => {
            let mut c = proto::Counter::default();
            c.set_value(*v as f64);
            metric.set_counter(c);
            MetricType::COUNTER
        }
        Value::Summary(s) => {
            let mut summary = proto::Summary::default();
            summary.set_sample_count(s.count);
            summary.set_sample_sum(s.sum as f64);
            let quantiles = s
                .quantiles
                .iter()
                // Prometheus' provider exports 0.5, 0.9 and 0.99 only.
                .filter(|(q, _)| matches!(*q, 0.5 | 0.9 | 0.99))
                .map(|(q, v)| {
                    let mut quantile = proto::Quantile::default();
                    quantile.set_quantile(*q);
                    quantile.set_value(*v as f64);
                    quantile
                })
                .collect();
            summary.set_quantile(quantiles);
            metric.set_summary(summary);
            MetricType::SUMMARY
        }
    };
    let mut family = MetricFamily::default();
    family.set_name(name.to_owned());
    family.set_help(name.to_owned());
    family.set_field_type(kind);
    family.set_metric(vec![metric]);
    Some(family)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;

    #[test]
    fn renders_zookeepers_names_and_types() {
        let m = Metrics::default();
        m.fsynctime.record(3);
        let mut samples = m.samples();
        samples.push(("znode_count", Value::Gauge(5.0)));
        samples.push(("version", Value::Text("3.9".into())));
        let text = render(&samples);
        assert!(
            text.contains("# TYPE znode_count gauge\nznode_count 5\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE fsynctime summary\n"), "{text}");
        assert!(text.contains("fsynctime{quantile=\"0.5\"} 3\n"), "{text}");
        assert!(text.contains("fsynctime_count 1\n"), "{text}");
        assert!(
            text.contains("# TYPE looking_count counter\nlooking_count 0\n"),
            "{text}"
        );
        assert!(!text.contains("version"), "text values are not exported");
        assert!(text.contains("process_resident_memory_bytes"), "{text}");
    }
}
