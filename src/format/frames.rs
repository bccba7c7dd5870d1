//! Format version 2's payload: the SQL, compressed in independent frames.
//!
//! In version 1 the STREAM chunks carry the SQL itself. In version 2 they
//! carry a *payload* that is the SQL cut into frames, each compressed on its
//! own (see the [format specification](super), "Payload of version 2").
//! A frame is small enough to compress and inflate in one call of a
//! platform's native DEFLATE (the worker's `CompressionStream`), and frames
//! share no state, so a job that stops between frames carries nothing of
//! the compressor over; only the SQL of the frame being filled (less than
//! [`FRAME_SQL_BYTES`]) is saved in a checkpoint.
//!
//! Invariants: writers cut the SQL into frames of exactly
//! [`FRAME_SQL_BYTES`] bytes (the last holds the rest, 1 byte at least), so
//! the frames do not depend on how the SQL arrives; a reader checks every
//! frame header as soon as its 9 bytes are there, holds at most one frame,
//! and releases a frame's SQL only once all of it has inflated to exactly
//! the length its header gives.

use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

use super::FormatError;

/// The only compression method: raw DEFLATE (RFC 1951).
pub const METHOD_DEFLATE: u8 = 1;
/// Bytes of a frame header: method, SQL length, body length.
pub const FRAME_HEADER_LEN: usize = 9;
/// SQL bytes per frame that writers use (the last frame holds the rest).
pub const FRAME_SQL_BYTES: usize = 256 * 1024;
/// The most SQL bytes a reader accepts in one frame.
pub const MAX_FRAME_SQL_BYTES: usize = 1024 * 1024;
/// The DEFLATE level of the software engine (zlib's default, which the
/// runtime's `CompressionStream` uses too).
pub const SOFTWARE_DEFLATE_LEVEL: u8 = 6;

/// The largest body a frame of `sql_len` bytes may have: DEFLATE expands
/// incompressible input by a few bytes per block, never by this much.
pub const fn max_body_len(sql_len: usize) -> usize {
    sql_len + (sql_len >> 8) + 64
}

/// A frame's header, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    /// SQL bytes the frame inflates to.
    pub sql_len: usize,
    /// Compressed bytes after the header.
    pub body_len: usize,
}

impl FrameHeader {
    fn encode(self) -> [u8; FRAME_HEADER_LEN] {
        let mut bytes = [0u8; FRAME_HEADER_LEN];
        bytes[0] = METHOD_DEFLATE;
        bytes[1..5].copy_from_slice(&(self.sql_len as u32).to_be_bytes());
        bytes[5..9].copy_from_slice(&(self.body_len as u32).to_be_bytes());
        bytes
    }

    fn parse(bytes: &[u8; FRAME_HEADER_LEN], index: u64) -> Result<Self, FormatError> {
        let malformed = |detail: String| Err(FormatError::MalformedFrame { index, detail });
        if bytes[0] != METHOD_DEFLATE {
            return malformed(format!("unknown compression method {}", bytes[0]));
        }
        let sql_len = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]) as usize;
        let body_len = u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]) as usize;
        if sql_len == 0 || sql_len > MAX_FRAME_SQL_BYTES {
            return malformed(format!(
                "it holds {sql_len} bytes of SQL, not 1 to {MAX_FRAME_SQL_BYTES}"
            ));
        }
        if body_len == 0 || body_len > max_body_len(sql_len) {
            return malformed(format!(
                "its body is {body_len} bytes for {sql_len} bytes of SQL"
            ));
        }
        Ok(FrameHeader { sql_len, body_len })
    }
}

/// One frame read from the payload, not yet inflated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    /// 0-based position of the frame in the payload.
    pub index: u64,
    /// SQL bytes it must inflate to.
    pub sql_len: usize,
    /// The raw DEFLATE stream.
    pub body: Vec<u8>,
}

/// The bytes of a frame: its header, then `body` (the raw DEFLATE stream
/// of `sql`).
pub(crate) fn encode_frame(sql: &[u8], body: &[u8]) -> Vec<u8> {
    let header = FrameHeader {
        sql_len: sql.len(),
        body_len: body.len(),
    };
    let mut frame = Vec::with_capacity(FRAME_HEADER_LEN + body.len());
    frame.extend_from_slice(&header.encode());
    frame.extend_from_slice(body);
    frame
}

/// Raw DEFLATE of `sql` by the `miniz_oxide` crate.
pub(crate) fn software_deflate(sql: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec(sql, SOFTWARE_DEFLATE_LEVEL)
}

/// The SQL of frame `index`, `body` inflated by the `miniz_oxide` crate:
/// `body` must be one complete DEFLATE stream, with nothing after it, of
/// exactly `sql_len` bytes.
pub(crate) fn software_inflate(
    body: &[u8],
    sql_len: usize,
    index: u64,
) -> Result<Vec<u8>, FormatError> {
    let malformed = |detail: String| FormatError::MalformedFrame { index, detail };
    let mut state = Box::<DecompressorOxide>::default();
    // One byte more than expected, to see a stream that inflates to more.
    let mut sql = vec![0u8; sql_len + 1];
    let (status, read, written) = decompress(
        &mut state,
        body,
        &mut sql,
        0,
        inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
    );
    match status {
        TINFLStatus::Done if read == body.len() && written == sql_len => {
            sql.truncate(written);
            Ok(sql)
        }
        TINFLStatus::Done if read != body.len() => Err(malformed(format!(
            "{} bytes follow the end of its DEFLATE stream",
            body.len() - read
        ))),
        TINFLStatus::Done | TINFLStatus::HasMoreOutput => Err(malformed(format!(
            "it inflates to {}{written} bytes, not the {} its header gives",
            if written > sql_len { "more than " } else { "" },
            sql_len
        ))),
        TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
            Err(malformed("its DEFLATE stream is cut short".into()))
        }
        other => Err(malformed(format!(
            "its DEFLATE stream is invalid ({other:?})"
        ))),
    }
}

/// The write side: cuts SQL into frames of [`FRAME_SQL_BYTES`].
#[derive(Debug, Default)]
pub(crate) struct FrameCutter {
    /// The SQL of the frame being filled: less than one frame.
    pending: Vec<u8>,
}

/// A frame's SQL: the buffered one, or one straight from the input.
pub(crate) enum FrameSql<'i> {
    Buffered(Vec<u8>),
    Input(&'i [u8]),
}

impl Frame {
    /// Its SQL, inflated by the crate ([`software_inflate`]).
    pub fn inflate(&self) -> Result<Vec<u8>, FormatError> {
        software_inflate(&self.body, self.sql_len, self.index)
    }
}

impl FrameSql<'_> {
    /// The SQL bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            FrameSql::Buffered(sql) => sql,
            FrameSql::Input(sql) => sql,
        }
    }
}

impl FrameCutter {
    /// A cutter that carries on with `pending`, the SQL of a frame being
    /// filled (from a checkpoint); `None` if it is a whole frame or more.
    pub fn resume(pending: Vec<u8>) -> Option<Self> {
        (pending.len() < FRAME_SQL_BYTES).then_some(FrameCutter { pending })
    }

    /// The SQL of the frame being filled.
    pub fn pending(&self) -> &[u8] {
        &self.pending
    }

    /// The next full frame's SQL, taken from the buffer or straight from
    /// `input` (which it advances), or `None` once `input` is used up (what
    /// is left of it stays buffered).
    pub fn next_full<'i>(&mut self, input: &mut &'i [u8]) -> Option<FrameSql<'i>> {
        while !input.is_empty() {
            if self.pending.is_empty() && input.len() >= FRAME_SQL_BYTES {
                let (whole, rest) = input.split_at(FRAME_SQL_BYTES);
                *input = rest;
                return Some(FrameSql::Input(whole));
            }
            let take = (FRAME_SQL_BYTES - self.pending.len()).min(input.len());
            self.pending.extend_from_slice(&input[..take]);
            *input = &input[take..];
            if self.pending.len() == FRAME_SQL_BYTES {
                return Some(FrameSql::Buffered(std::mem::take(&mut self.pending)));
            }
        }
        None
    }

    /// The last frame's SQL, if any is left.
    pub fn take_last(&mut self) -> Option<Vec<u8>> {
        (!self.pending.is_empty()).then(|| std::mem::take(&mut self.pending))
    }
}

/// The read side: finds the frames in the payload as it arrives.
#[derive(Debug, Default)]
pub(crate) struct FrameSplitter {
    /// Bytes of the frame being read: at most one frame.
    buf: Vec<u8>,
    /// Position of the frame being read.
    index: u64,
}

impl FrameSplitter {
    /// A splitter that carries on with `partial`, the bytes of frame
    /// `index` read so far (from a checkpoint).
    pub fn resume(index: u64, partial: Vec<u8>) -> Result<Self, FormatError> {
        let mut splitter = FrameSplitter {
            buf: Vec::new(),
            index,
        };
        let mut input = partial.as_slice();
        match splitter.next_frame(&mut input)? {
            None => Ok(splitter),
            Some(_) => Err(FormatError::MalformedFrame {
                index,
                detail: "a checkpoint holds a whole frame as a partial one".into(),
            }),
        }
    }

    /// The bytes of the frame being read, and its position.
    pub fn partial(&self) -> (u64, &[u8]) {
        (self.index, &self.buf)
    }

    /// The next complete frame, its header checked, taking bytes from
    /// `input` (which it advances); `None` once `input` is used up.
    pub fn next_frame(&mut self, input: &mut &[u8]) -> Result<Option<Frame>, FormatError> {
        loop {
            let needed = match self.header()? {
                None => FRAME_HEADER_LEN,
                Some(header) => FRAME_HEADER_LEN + header.body_len,
            };
            if self.buf.len() == needed {
                let header = self.header()?.expect("a whole frame has its header");
                let mut frame = std::mem::take(&mut self.buf);
                frame.drain(..FRAME_HEADER_LEN);
                let index = self.index;
                self.index += 1;
                return Ok(Some(Frame {
                    index,
                    sql_len: header.sql_len,
                    body: frame,
                }));
            }
            if input.is_empty() {
                return Ok(None);
            }
            let take = (needed - self.buf.len()).min(input.len());
            if self.buf.is_empty() {
                self.buf.reserve_exact(needed);
            }
            self.buf.extend_from_slice(&input[..take]);
            *input = &input[take..];
        }
    }

    /// The end of the payload: fails if a frame was left incomplete.
    pub fn finish(&self) -> Result<(), FormatError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        Err(FormatError::MalformedFrame {
            index: self.index,
            detail: format!(
                "the payload ends {} bytes into it, before its end",
                self.buf.len()
            ),
        })
    }

    fn header(&self) -> Result<Option<FrameHeader>, FormatError> {
        match self.buf.first_chunk::<FRAME_HEADER_LEN>() {
            None => Ok(None),
            Some(bytes) => FrameHeader::parse(bytes, self.index).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| b"INSERT INTO t VALUES(1,'x');\n"[i % 29])
            .collect()
    }

    fn payload_of(sql: &[u8]) -> Vec<u8> {
        let mut cutter = FrameCutter::default();
        let mut input = sql;
        let mut payload = Vec::new();
        while let Some(frame) = cutter.next_full(&mut input) {
            payload.extend(encode_frame(
                frame.bytes(),
                &software_deflate(frame.bytes()),
            ));
        }
        if let Some(last) = cutter.take_last() {
            payload.extend(encode_frame(&last, &software_deflate(&last)));
        }
        payload
    }

    fn inflate_all(payload: &[u8], piece: usize) -> Result<Vec<u8>, FormatError> {
        let mut splitter = FrameSplitter::default();
        let mut sql = Vec::new();
        for mut input in payload.chunks(piece.max(1)) {
            while let Some(frame) = splitter.next_frame(&mut input)? {
                sql.extend(frame.inflate()?);
            }
        }
        splitter.finish()?;
        Ok(sql)
    }

    #[test]
    fn frames_round_trip_however_the_payload_is_cut() {
        let text = sql(2 * FRAME_SQL_BYTES + 1000);
        let payload = payload_of(&text);
        assert!(
            payload.len() < text.len() / 10,
            "SQL this repetitive compresses well"
        );
        for piece in [1, 9, 10, 4096, payload.len()] {
            assert_eq!(
                inflate_all(&payload, piece).unwrap(),
                text,
                "pieces of {piece}"
            );
        }
    }

    #[test]
    fn frames_do_not_depend_on_how_the_sql_arrives() {
        let text = sql(FRAME_SQL_BYTES + 17);
        let whole = payload_of(&text);
        let mut cutter = FrameCutter::default();
        let mut payload = Vec::new();
        for mut piece in text.chunks(1000) {
            while let Some(frame) = cutter.next_full(&mut piece) {
                payload.extend(encode_frame(
                    frame.bytes(),
                    &software_deflate(frame.bytes()),
                ));
            }
        }
        let last = cutter.take_last().unwrap();
        assert_eq!(last.len(), 17);
        payload.extend(encode_frame(&last, &software_deflate(&last)));
        assert_eq!(payload, whole);
    }

    #[test]
    fn a_payload_cut_inside_a_frame_is_refused() {
        let payload = payload_of(&sql(5000));
        for cut in [1, FRAME_HEADER_LEN, payload.len() - 1] {
            let err = inflate_all(&payload[..cut], 7).unwrap_err();
            assert!(
                matches!(err, FormatError::MalformedFrame { index: 0, .. }),
                "{err}"
            );
        }
    }

    #[test]
    fn bad_frame_headers_are_refused_before_the_body_arrives() {
        let good = payload_of(&sql(100));
        let cases: [(usize, u8, &str); 3] = [
            (0, 2, "unknown compression method 2"),
            (1, 0xff, "bytes of SQL, not 1 to"),
            (5, 0xff, "its body is"),
        ];
        for (offset, byte, expected) in cases {
            let mut bad = good[..FRAME_HEADER_LEN].to_vec();
            bad[offset] = byte;
            let err = FrameSplitter::default()
                .next_frame(&mut bad.as_slice())
                .unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        }
    }

    #[test]
    fn a_body_that_inflates_to_another_length_or_has_trailing_bytes_is_refused() {
        let text = sql(300);
        let body = software_deflate(&text);
        assert_eq!(software_inflate(&body, 300, 3).unwrap(), text);
        for (sql_len, body, expected) in [
            (299, body.clone(), "more than"),
            (301, body.clone(), "not the 301"),
            (300, [body.clone(), vec![0]].concat(), "follow the end"),
            (300, body[..body.len() - 2].to_vec(), "cut short"),
        ] {
            let err = software_inflate(&body, sql_len, 3).unwrap_err();
            assert!(err.to_string().contains(expected), "{expected}: {err}");
        }
    }

    #[test]
    fn a_splitter_resumes_from_its_partial_frame() {
        let text = sql(FRAME_SQL_BYTES + 500);
        let payload = payload_of(&text);
        for cut in [0, 4, FRAME_HEADER_LEN + 3, payload.len() - 3] {
            let mut splitter = FrameSplitter::default();
            let mut sql = Vec::new();
            let mut input = &payload[..cut];
            while let Some(frame) = splitter.next_frame(&mut input).unwrap() {
                sql.extend(frame.inflate().unwrap());
            }
            let (index, partial) = splitter.partial();
            let mut resumed = FrameSplitter::resume(index, partial.to_vec()).unwrap();
            let mut input = &payload[cut..];
            while let Some(frame) = resumed.next_frame(&mut input).unwrap() {
                sql.extend(frame.inflate().unwrap());
            }
            resumed.finish().unwrap();
            assert_eq!(sql, text, "cut at {cut}");
        }
    }
}
