//! Raw DEFLATE by the runtime's `CompressionStream` and
//! `DecompressionStream` (`"deflate-raw"`), natively instead of in wasm:
//! the compression half of the worker's [`WebEngine`](super::web_engine::WebEngine).
//!
//! One call compresses or inflates one whole frame: the bytes are copied
//! into a `Response` body, piped through the stream and read back whole.
//! The runtime's output may differ from the `miniz_oxide` crate's for the
//! same input (DEFLATE is not canonical); each inflates the other's.

use super::web_engine::js_error_message;
use crate::format::EngineFailed;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use worker::js_sys::{Promise, Uint8Array};
use worker::wasm_bindgen_futures::JsFuture;

/// The stream format of a raw DEFLATE stream (RFC 1951), no header.
const DEFLATE_RAW: &str = "deflate-raw";

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = CompressionStream)]
    type JsCompressionStream;
    #[wasm_bindgen(constructor, js_class = "CompressionStream", catch)]
    fn new(format: &str) -> Result<JsCompressionStream, JsValue>;

    #[wasm_bindgen(js_name = DecompressionStream)]
    type JsDecompressionStream;
    #[wasm_bindgen(constructor, js_class = "DecompressionStream", catch)]
    fn new(format: &str) -> Result<JsDecompressionStream, JsValue>;

    #[wasm_bindgen(js_name = Response)]
    type JsResponse;
    #[wasm_bindgen(constructor, js_class = "Response", catch)]
    fn new(body: &JsValue) -> Result<JsResponse, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn body(this: &JsResponse) -> JsReadableStream;
    #[wasm_bindgen(method, js_name = arrayBuffer, catch)]
    fn array_buffer(this: &JsResponse) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_name = ReadableStream)]
    type JsReadableStream;
    #[wasm_bindgen(method, js_name = pipeThrough, catch)]
    fn pipe_through(
        this: &JsReadableStream,
        transform: &JsValue,
    ) -> Result<JsReadableStream, JsValue>;
}

/// The raw DEFLATE stream of `sql`.
pub async fn deflate(sql: &[u8]) -> Result<Vec<u8>, EngineFailed> {
    let stream =
        JsCompressionStream::new(DEFLATE_RAW).map_err(|e| failed("CompressionStream", e))?;
    through(sql, stream.unchecked_ref(), "CompressionStream").await
}

/// What the raw DEFLATE stream `body` inflates to; the caller checks its
/// length.
pub async fn inflate(body: &[u8]) -> Result<Vec<u8>, EngineFailed> {
    let stream =
        JsDecompressionStream::new(DEFLATE_RAW).map_err(|e| failed("DecompressionStream", e))?;
    through(body, stream.unchecked_ref(), "DecompressionStream").await
}

/// `bytes` piped through `transform`, read back whole.
async fn through(bytes: &[u8], transform: &JsValue, name: &str) -> Result<Vec<u8>, EngineFailed> {
    // A copy in the JavaScript heap: the stream reads it after this returns.
    let input = JsResponse::new(&Uint8Array::from(bytes).into()).map_err(|e| failed(name, e))?;
    let piped = input
        .body()
        .pipe_through(transform)
        .map_err(|e| failed(name, e))?;
    let output = JsResponse::new(&piped.into()).map_err(|e| failed(name, e))?;
    let promise = output.array_buffer().map_err(|e| failed(name, e))?;
    let buffer = JsFuture::from(promise).await.map_err(|e| failed(name, e))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

fn failed(operation: &str, error: JsValue) -> EngineFailed {
    EngineFailed(format!(
        "{operation} ({DEFLATE_RAW}): {}",
        js_error_message(&error)
    ))
}
