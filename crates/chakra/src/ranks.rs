//! Finding the per-rank files `<prefix>.<rank>.et` of a workload without opening them.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::ChakraError;
use crate::reader::TraceReader;

/// The trace files of ranks 0 to n − 1 of one workload, found by listing a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RankFiles {
    prefix: PathBuf,
    paths: Vec<PathBuf>,
}

impl RankFiles {
    /// Lists `<prefix>.<rank>.et` for every rank, in rank order, opening none of them.
    ///
    /// `prefix` is what ASTRA-sim's `--workload-configuration` takes, e.g.
    /// `workload/all_reduce/4npus_1MB/all_reduce`. Ranks are decimal without leading zeros;
    /// other names are ignored. No file at all, or a gap in the ranks, is an error naming the
    /// first missing file.
    pub fn discover(prefix: impl AsRef<Path>) -> Result<Self, ChakraError> {
        let prefix = prefix.as_ref();
        let mut ranks = list_ranks(prefix)?;
        ranks.sort_unstable();
        check_contiguous(prefix, &ranks)?;
        let paths = ranks.iter().map(|&rank| rank_path(prefix, rank)).collect();
        Ok(RankFiles { prefix: prefix.to_path_buf(), paths })
    }

    /// The prefix as given to [`RankFiles::discover`].
    pub fn prefix(&self) -> &Path {
        &self.prefix
    }

    /// How many ranks (at least one).
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// Always `false`: discovery fails when there is no file. Here for the `len` convention.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Every path, index = rank.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// The path of `rank`, if it exists.
    pub fn path(&self, rank: usize) -> Option<&Path> {
        self.paths.get(rank).map(PathBuf::as_path)
    }

    /// Opens the file of `rank` and reads its metadata; an out-of-range rank is a NotFound
    /// [`ChakraError::Io`] naming the file it would have been.
    pub fn open(&self, rank: usize) -> Result<TraceReader<File>, ChakraError> {
        match self.path(rank) {
            Some(path) => TraceReader::open(path),
            None => Err(ChakraError::Io {
                origin: rank_path(&self.prefix, rank).display().to_string(),
                error: std::io::ErrorKind::NotFound.into(),
            }),
        }
    }
}

/// `<prefix>.<rank>.et`.
pub fn rank_path(prefix: &Path, rank: impl std::fmt::Display) -> PathBuf {
    let mut name = OsString::from(prefix.as_os_str());
    name.push(format!(".{rank}.et"));
    PathBuf::from(name)
}

/// The ranks whose files exist in the prefix's directory, unsorted.
fn list_ranks(prefix: &Path) -> Result<Vec<u32>, ChakraError> {
    let no_files = || ChakraError::NoRankFiles { prefix: prefix.display().to_string() };
    let stem = prefix.file_name().and_then(|name| name.to_str()).ok_or_else(no_files)?;
    let dir = match prefix.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let io_error = |error| ChakraError::Io { origin: dir.display().to_string(), error };
    let mut ranks = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error)? {
        let entry = entry.map_err(io_error)?;
        let rank = entry.file_name().to_str().and_then(|name| parse_rank(name, stem));
        if let Some(rank) = rank.filter(|_| entry.path().is_file()) {
            ranks.push(rank);
        }
    }
    Ok(ranks)
}

/// The rank in `<stem>.<rank>.et`, if `file_name` has that form with a canonical decimal rank.
fn parse_rank(file_name: &str, stem: &str) -> Option<u32> {
    let digits = file_name.strip_prefix(stem)?.strip_prefix('.')?.strip_suffix(".et")?;
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    canonical.then(|| digits.parse().ok()).flatten()
}

fn check_contiguous(prefix: &Path, sorted_ranks: &[u32]) -> Result<(), ChakraError> {
    let Some(&highest_rank) = sorted_ranks.last() else {
        return Err(ChakraError::NoRankFiles { prefix: prefix.display().to_string() });
    };
    let gap = (0u32..).zip(sorted_ranks).find(|(expected, &found)| *expected != found);
    match gap {
        None => Ok(()),
        Some((missing, _)) => Err(ChakraError::MissingRank {
            prefix: prefix.display().to_string(),
            missing: rank_path(prefix, missing).display().to_string(),
            highest_rank,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_are_canonical_decimals_after_the_stem() {
        let cases = [
            ("all_reduce.0.et", Some(0)),
            ("all_reduce.15.et", Some(15)),
            ("all_reduce.01.et", None),
            ("all_reduce..et", None),
            ("all_reduce.1.et.bak", None),
            ("all_reduce.x.et", None),
            ("all_reduce_big.1.et", None),
            ("all_reduce.99999999999.et", None),
        ];
        for (name, expected) in cases {
            assert_eq!(parse_rank(name, "all_reduce"), expected, "{name}");
        }
    }

    #[test]
    fn rank_path_appends_rank_and_extension() {
        let path = rank_path(Path::new("w/all_reduce"), 3);
        assert_eq!(path, PathBuf::from("w/all_reduce.3.et"));
    }
}
