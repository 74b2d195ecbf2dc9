#!/bin/sh
# Cost of masking one output line (src/playbook/mask.rs), optimised, without building the whole
# crate in release: the module is compiled alone with `rustc -O` and a small driver.
# Usage: sh benches/measure_mask.sh
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
here=$(cd "$(dirname "$0")/.." && pwd)
sed 's/^use super::model::MASK;/const MASK: \&str = "••••••";/' "$here/src/playbook/mask.rs" \
    | sed 's/crate::actions::run::TRUNCATED_SUFFIX/" [line truncated]"/' \
    | sed '/^#\[cfg(test)\]/,$d' > "$dir/mask.rs"
cat > "$dir/main.rs" <<'RS'
#![allow(dead_code)]
mod mask;
fn main() {
    // Two secrets: one with `/`, `+` and a space, one 32 bytes long.
    let m = mask::Masker::new(["Sup3r/S3cr3t+K3y z", "0123456789abcdef0123456789abcdef"]);
    let cases = [
        ("4090-byte line of digits (a secret's first 10 bytes match everywhere)", "0123456789".repeat(409)),
        ("4096-byte line of text", "the quick brown fox jumps over the lazy dog; ".repeat(91)),
        ("76-byte log line", "a normal log line of about eighty characters, nothing secret in it at all ok".to_string()),
    ];
    for (name, line) in cases {
        let mut carry = mask::Carry::default();
        let n = 20000;
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(m.mask_line(std::hint::black_box(&line), &mut carry));
        }
        println!("{name}: {:.1} us/line", t.elapsed().as_secs_f64() * 1e6 / n as f64);
    }
}
RS
rustc --edition 2024 -O "$dir/main.rs" -o "$dir/bench"
"$dir/bench"
