//! docs/guide.md shows real output: every `<!-- run: astrolabe ARGS -->` block must be what
//! the command prints now (scripts/gen-guide.sh regenerates them).

use assert_cmd::Command;

#[test]
fn every_command_block_of_the_guide_is_what_the_command_prints() {
    let guide = std::fs::read_to_string("../../docs/guide.md").unwrap();
    let lines: Vec<&str> = guide.lines().collect();
    let mut checked = 0;
    for (i, line) in lines.iter().enumerate() {
        let Some(args) =
            line.strip_prefix("<!-- run: astrolabe ").and_then(|l| l.strip_suffix(" -->"))
        else {
            continue;
        };
        assert_eq!(lines.get(i + 1), Some(&"```text"), "no output block after {line}");
        let end = lines[i + 2..].iter().position(|l| *l == "```").expect("closing fence") + i + 2;
        let shown = lines[i + 2..end].join("\n");
        // Commands run from the repository root, as the guide's reader runs them.
        let out = Command::cargo_bin("astrolabe")
            .unwrap()
            .current_dir("../..")
            .args(args.split_whitespace())
            .output()
            .unwrap();
        assert!(out.status.success(), "{args}: {}", String::from_utf8_lossy(&out.stderr));
        let printed = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            shown,
            printed.trim_end_matches('\n'),
            "docs/guide.md is stale for `{args}`: run scripts/gen-guide.sh"
        );
        checked += 1;
    }
    assert_eq!(checked, 4, "the guide's command blocks");
}
