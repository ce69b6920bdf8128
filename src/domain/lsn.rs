//! PostgreSQL write-ahead-log positions (`16/B374D848`) as clients send them back for
//! read-your-writes: parsed and checked here, before any of it reaches SQL.

use std::fmt;
use std::str::FromStr;

/// A WAL position: the high and low 32 bits, written as two hexadecimal numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lsn(pub u64);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a WAL position; send back the `x-samverka-lsn` of a write, e.g. `16/B374D848`")]
pub struct BadLsn(pub String);

impl FromStr for Lsn {
    type Err = BadLsn;

    fn from_str(text: &str) -> Result<Self, BadLsn> {
        let bad = || BadLsn(text.chars().take(40).collect());
        let (high, low) = text.trim().split_once('/').ok_or_else(bad)?;
        let half = |part: &str| {
            if part.is_empty() || part.len() > 8 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            u32::from_str_radix(part, 16).map_err(|_| bad())
        };
        Ok(Self((u64::from(half(high)?) << 32) | u64::from(half(low)?)))
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lsn(text: &str) -> Lsn {
        text.parse().unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn parses_compares_and_prints_as_postgresql_does() {
        let position = lsn("16/B374D848");
        assert_eq!(position.0, (0x16 << 32) | 0xB374_D848);
        assert_eq!(position.to_string(), "16/B374D848");
        assert_eq!(lsn("0/0"), Lsn(0));
        assert!(lsn("1/0") > lsn("0/FFFFFFFF"));
        assert_eq!(lsn("ffffffff/ffffffff"), Lsn(u64::MAX));
    }

    #[test]
    fn refuses_what_is_not_a_position() {
        for text in ["", "16", "/1", "1/", "1/2/3", "g/1", "123456789/0", "1/-1", "1'; DROP TABLE x; --/0", " 1 /2"] {
            assert!(text.parse::<Lsn>().is_err(), "{text:?}");
        }
    }
}
