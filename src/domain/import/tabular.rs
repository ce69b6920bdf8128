//! Reading the delimited text files funders publish, as they come: a UTF-8 or UTF-16 byte-order
//! mark, Windows-1252 bytes from an old spreadsheet, CRLF line ends, quoted delimiters, a
//! header that differs from the documented one in case or spacing. Cells are found by header
//! name; every problem names the file, the row (as a spreadsheet numbers it: the header is
//! row 1) and the column.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use unicode_normalization::UnicodeNormalization;

/// A problem with one row (or with the whole file when `row` is `None`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub file: String,
    pub row: Option<u64>,
    pub column: Option<String>,
    /// A short machine-readable reason (`unknown_code`, `check_digit`, `date`, `negative`…).
    pub rule: String,
    pub message: String,
}

impl RowError {
    pub fn file(file: &str, rule: &str, message: impl Into<String>) -> Self {
        Self { file: file.to_owned(), row: None, column: None, rule: rule.to_owned(), message: message.into() }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(row) = self.row {
            write!(f, " row {row}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ", column `{column}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Text of a file whatever its encoding: a BOM decides; otherwise UTF-8 when the bytes are valid
/// UTF-8, else Windows-1252 (what Excel writes on Nordic Windows). Normalised to NFC, so "å"
/// typed as `a` + ring (macOS) compares equal to "å".
pub fn decode(bytes: &[u8]) -> String {
    let text = match encoding_rs::Encoding::for_bom(bytes) {
        Some((encoding, bom_length)) => encoding.decode_without_bom_handling(&bytes[bom_length..]).0.into_owned(),
        None => match std::str::from_utf8(bytes) {
            Ok(text) => text.to_owned(),
            Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
        },
    };
    if text.is_ascii() { text } else { text.nfc().collect() }
}

/// How header names are compared: case, spacing (also line breaks inside a quoted header),
/// punctuation (`(EUR)` and `EUR`) and Unicode form do not matter.
pub fn header_key(name: &str) -> String {
    let text: String = name.nfc().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// A delimited file read into memory, with its header.
#[derive(Debug)]
pub struct Table {
    pub file: String,
    pub headers: Vec<String>,
    index: HashMap<String, usize>,
    /// The data rows with their row numbers.
    pub rows: Vec<(u64, csv::StringRecord)>,
}

/// One data row of a [`Table`], with its spreadsheet row number.
#[derive(Clone, Copy, Debug)]
pub struct Cells<'a> {
    table: &'a Table,
    pub row: u64,
    record: &'a csv::StringRecord,
}

/// The delimiter a header line uses most among `;`, `,`, tab and `|` (outside quotes).
fn sniff_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    let mut counts = [(b';', 0usize), (b',', 0), (b'\t', 0), (b'|', 0)];
    let mut quoted = false;
    for byte in header.bytes() {
        if byte == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(entry) = counts.iter_mut().find(|(d, _)| *d == byte) {
            entry.1 += 1;
        }
    }
    counts.iter().max_by_key(|(_, n)| *n).map_or(b';', |(d, _)| *d)
}

impl Table {
    /// Reads a whole file. `delimiter` `None` detects it from the header line.
    pub fn read(file: &str, bytes: &[u8], delimiter: Option<u8>) -> Result<Table, RowError> {
        let text = decode(bytes);
        let delimiter = delimiter.unwrap_or_else(|| sniff_delimiter(&text));
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(true)
            .from_reader(text.as_bytes());
        let headers: Vec<String> = reader
            .headers()
            .map_err(|error| RowError::file(file, "csv", format!("cannot read the header: {error}")))?
            .iter()
            .map(|h| h.trim().to_owned())
            .collect();
        if headers.iter().all(String::is_empty) {
            return Err(RowError::file(file, "empty", "the file is empty (no header row)"));
        }
        let mut index = HashMap::new();
        for (at, header) in headers.iter().enumerate() {
            index.entry(header_key(header)).or_insert(at);
        }
        let mut records = Vec::new();
        for (at, record) in reader.records().enumerate() {
            records.push(record.map_err(|error| RowError {
                file: file.to_owned(),
                row: Some(at as u64 + 2),
                column: None,
                rule: "csv".into(),
                message: format!("not readable as delimited text: {error}"),
            })?);
        }
        // Quotes left unescaped inside quoted cells (CORDIS objectives quote words as
        // "this") split a row into too many cells; read such a file the lenient way.
        // Only when that reading fits the header on every row and the strict one does not.
        let fits = |len: usize| len == headers.len();
        if !records.iter().all(|r| fits(r.len()))
            && let Some(lenient) = lenient_records(&text, delimiter)
                .filter(|rows| rows.iter().all(|r| fits(r.len()) || r.iter().all(|cell| cell.trim().is_empty())))
        {
            records = lenient.into_iter().skip(1).map(csv::StringRecord::from).collect();
        }
        let rows = records
            .into_iter()
            .enumerate()
            .map(|(at, record)| (at as u64 + 2, record))
            // Blank lines (Excel leaves them at the end) are not rows.
            .filter(|(_, record)| !record.iter().all(|cell| cell.trim().is_empty()))
            .collect();
        Ok(Table { file: file.to_owned(), headers, index, rows })
    }

    /// Fails, naming every missing column, unless the header has all of `columns`.
    pub fn require(&self, columns: &[&str]) -> Result<(), RowError> {
        let missing: Vec<&str> = columns.iter().copied().filter(|c| !self.has(c)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(RowError::file(
            &self.file,
            "missing_columns",
            format!(
                "the header lacks {} (found: {})",
                missing.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "),
                self.headers.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
            ),
        ))
    }

    pub fn has(&self, column: &str) -> bool {
        self.index.contains_key(&header_key(column))
    }

    /// The data rows, numbered as a spreadsheet numbers them (the header is row 1; a cell
    /// spanning lines is still one row).
    pub fn cells(&self) -> impl Iterator<Item = Cells<'_>> {
        self.rows.iter().map(move |(row, record)| Cells { table: self, row: *row, record })
    }
}

impl<'a> Cells<'a> {
    pub fn file(&self) -> &'a str {
        &self.table.file
    }

    /// The trimmed cell of `column`; `None` when the column is absent or the cell is blank.
    pub fn get(&self, column: &str) -> Option<&'a str> {
        let at = *self.table.index.get(&header_key(column))?;
        self.record.get(at).map(str::trim).filter(|cell| !cell.is_empty())
    }

    /// An error at this row and `column`.
    pub fn error(&self, column: &str, rule: &str, message: impl Into<String>) -> RowError {
        RowError {
            file: self.table.file.clone(),
            row: Some(self.row),
            column: Some(column.to_owned()),
            rule: rule.to_owned(),
            message: message.into(),
        }
    }

    /// The cell of a column that must not be blank.
    pub fn required(&self, column: &str) -> Result<&'a str, RowError> {
        self.get(column).ok_or_else(|| self.error(column, "required", "is empty"))
    }

    /// A date cell in any common form ([`parse_day`]); blank is `None`.
    pub fn day(&self, column: &str, format: Option<&str>) -> Result<Option<NaiveDate>, RowError> {
        self.get(column)
            .map(|text| parse_day(text, format).map_err(|reason| self.error(column, "date", reason)))
            .transpose()
    }

    /// A non-negative amount ([`parse_amount`]); blank is `None`.
    pub fn amount(&self, column: &str) -> Result<Option<f64>, RowError> {
        let Some(text) = self.get(column) else { return Ok(None) };
        let value = parse_amount(text).map_err(|reason| self.error(column, "amount", reason))?;
        if value < 0.0 {
            return Err(self.error(column, "negative", format!("`{text}` is negative; amounts cannot be")));
        }
        Ok(Some(value))
    }
}

/// Splits delimited text where a quote closes a quoted cell only before a delimiter, a line end
/// or the end of the text; `""` inside is one quote, any other quote is kept as it is. For files
/// whose quoted cells hold unescaped quotes. `None` when a quoted cell never closes.
fn lenient_records(text: &str, delimiter: u8) -> Option<Vec<Vec<String>>> {
    let delimiter = char::from(delimiter);
    let chars: Vec<char> = text.chars().collect();
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let mut cell = String::new();
        if chars[at] == '"' {
            at += 1;
            loop {
                let c = *chars.get(at)?;
                if c == '"' {
                    match chars.get(at + 1) {
                        None | Some('\n' | '\r') => break,
                        Some(next) if *next == delimiter => break,
                        Some('"') => {
                            cell.push('"');
                            at += 2;
                        }
                        Some(_) => {
                            cell.push('"');
                            at += 1;
                        }
                    }
                } else {
                    cell.push(c);
                    at += 1;
                }
            }
            at += 1; // the closing quote
        }
        while let Some(&c) = chars.get(at) {
            if c == delimiter || c == '\n' || c == '\r' {
                break;
            }
            cell.push(c);
            at += 1;
        }
        row.push(cell);
        match chars.get(at) {
            Some(c) if *c == delimiter => at += 1,
            Some('\r') => {
                at += if chars.get(at + 1) == Some(&'\n') { 2 } else { 1 };
                rows.push(std::mem::take(&mut row));
            }
            Some(_) => {
                at += 1;
                rows.push(std::mem::take(&mut row));
            }
            None => rows.push(std::mem::take(&mut row)),
        }
    }
    if !row.is_empty() {
        rows.push(row);
    }
    Some(rows)
}

/// A day written as funders write them: `2021-03-01`, `2021-03-01 10:00[:00]`, `2021-03-01T…`,
/// `01.03.2021[ 10:00[:00]]`, `01/03/2021` (day first), or by an explicit chrono `format`.
/// The time of day, when given, is dropped.
pub fn parse_day(text: &str, format: Option<&str>) -> Result<NaiveDate, String> {
    let text = text.trim();
    if let Some(format) = format {
        return NaiveDate::parse_from_str(text, format)
            .or_else(|_| NaiveDateTime::parse_from_str(text, format).map(|t| t.date()))
            .map_err(|_| format!("`{text}` is not a date in the form `{format}`"));
    }
    let date_part = text.split(['T', ' ']).next().unwrap_or(text);
    for format in ["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d", "%d-%m-%Y"] {
        if let Ok(day) = NaiveDate::parse_from_str(date_part, format) {
            return Ok(day);
        }
    }
    Err(format!("`{text}` is not a date (expected e.g. 2021-03-01 or 01.03.2021 10:00)"))
}

/// An amount written either way: `1234567.89`, `1234567,89`, `1 234 567,89` (also with
/// non-breaking spaces), `1,234,567.89`, `1.234.567,89`, `EUR 1 000`. With both separators, the
/// last one is the decimal point; a single kind that occurs once is the decimal point, several
/// times a thousands separator.
pub fn parse_amount(text: &str) -> Result<f64, String> {
    let cleaned: String = text
        .trim()
        .trim_start_matches(|c: char| c.is_alphabetic() || c == '€')
        .trim_end_matches(|c: char| c.is_alphabetic() || c == '€')
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\'' && *c != '\u{a0}' && *c != '\u{202f}')
        .collect();
    let commas = cleaned.matches(',').count();
    let dots = cleaned.matches('.').count();
    let normalised = match (commas, dots) {
        (0, 0) | (0, 1) => cleaned,
        (1, 0) => cleaned.replace(',', "."),
        (_, 0) => cleaned.replace(',', ""),
        (0, _) => cleaned.replace('.', ""),
        _ => {
            let last_comma = cleaned.rfind(',').unwrap_or(0);
            let last_dot = cleaned.rfind('.').unwrap_or(0);
            if last_comma > last_dot { cleaned.replace('.', "").replace(',', ".") } else { cleaned.replace(',', "") }
        }
    };
    normalised
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("`{}` is not an amount", text.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_every_notation() {
        for (text, value) in [
            ("1234567.89", 1234567.89),
            ("1234567,89", 1234567.89),
            ("1 234 567,89", 1234567.89),
            ("1\u{a0}234\u{a0}567,89", 1234567.89),
            ("1,234,567.89", 1234567.89),
            ("1.234.567,89", 1234567.89),
            ("EUR 1 000", 1000.0),
            ("-5", -5.0),
            ("0", 0.0),
        ] {
            assert_eq!(parse_amount(text), Ok(value), "{text}");
        }
        assert!(parse_amount("n/a").is_err());
        assert!(parse_amount("1e999").is_err());
    }

    #[test]
    fn days_in_every_notation() {
        let day = NaiveDate::from_ymd_opt(2021, 3, 1);
        for text in ["2021-03-01", "01.03.2021 10:00", "01.03.2021", "2021-03-01 16:40:01", "2021-03-01T00:00:00Z"] {
            assert_eq!(parse_day(text, None).ok(), day, "{text}");
        }
        assert!(parse_day("31.02.2021 10:00", None).is_err());
        assert_eq!(parse_day("03/01/2021", Some("%m/%d/%Y")).ok(), day);
    }

    #[test]
    fn messy_files_read_alike() {
        let clean = "a;b\r\n1;\"x; \"\"y\"\"\"\r\n";
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), clean.as_bytes()].concat();
        let table = Table::read("t.csv", &with_bom, None).expect("reads");
        let row = table.cells().next().expect("a row");
        assert_eq!(row.get("A"), Some("1"));
        assert_eq!(row.get("b"), Some("x; \"y\""));
        assert_eq!(row.row, 2);
        // Windows-1252 "Bodø" and UTF-16 with BOM.
        let latin = Table::read("t.csv", b"kommune,kode\nBod\xF8,1804\n", None).expect("reads");
        assert_eq!(latin.cells().next().and_then(|r| r.get("kommune")), Some("Bodø"));
        let utf16: Vec<u8> =
            [0xFF, 0xFE].into_iter().chain("x\ty\n1\t2\n".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        let wide = Table::read("t.csv", &utf16, None).expect("reads");
        assert_eq!(wide.cells().next().and_then(|r| r.get("y")), Some("2"));
        assert!(table.require(&["a", "c"]).is_err_and(|e| e.message.contains("`c`")));
        // CORDIS-style cells with unescaped quotes (and a delimiter) inside.
        let broken =
            "\"id\";\"objective\";\"rcn\"\n\"1\";\"we \"play around\" here; see\nmore\";\"7\"\n\"2\";\"plain\";\"8\"\n";
        let table = Table::read("p.csv", broken.as_bytes(), None).expect("reads");
        let rows: Vec<_> = table.cells().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].get("objective"), Some("we \"play around\" here; see\nmore"));
        assert_eq!(rows[0].get("rcn"), Some("7"));
        assert_eq!((rows[1].row, rows[1].get("rcn")), (3, Some("8")));
        // A header written a little differently still names its column.
        assert_eq!(header_key("Innvilget beløp organisasjon (EUR)"), header_key(" innvilget  beløp\norganisasjon EUR"));
    }
}
