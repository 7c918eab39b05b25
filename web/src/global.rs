//! What the player needs from the global scope, bound by name so that the same module
//! runs on a page (`window`) and in a dedicated worker (`self`), where `web_sys::window()`
//! is `None`: timers, `performance.now()` and `fetch`.

use wasm_bindgen::prelude::*;
use web_sys::RequestInit;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout, catch)]
    fn set_timeout_js(callback: &js_sys::Function, ms: i32) -> Result<i32, JsValue>;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout_js(handle: i32);
    #[wasm_bindgen(js_name = setInterval, catch)]
    fn set_interval_js(callback: &js_sys::Function, ms: i32) -> Result<i32, JsValue>;
    #[wasm_bindgen(js_name = clearInterval)]
    fn clear_interval_js(handle: i32);
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_js(url: &str, init: &RequestInit) -> js_sys::Promise;
}

/// `setTimeout(callback, ms)`; `None` where the scope refuses.
pub(crate) fn set_timeout(callback: &js_sys::Function, ms: i32) -> Option<i32> {
    set_timeout_js(callback, ms).ok()
}

/// `clearTimeout(handle)`.
pub(crate) fn clear_timeout(handle: i32) {
    clear_timeout_js(handle);
}

/// `setInterval(callback, ms)`; `None` where the scope refuses.
pub(crate) fn set_interval(callback: &js_sys::Function, ms: i32) -> Option<i32> {
    set_interval_js(callback, ms).ok()
}

/// `clearInterval(handle)`.
pub(crate) fn clear_interval(handle: i32) {
    clear_interval_js(handle);
}

/// `performance.now()`, ms: monotonic, in pages and workers alike.
pub(crate) fn now_ms() -> f64 {
    performance_now()
}

/// `fetch(url, init)`.
pub(crate) fn fetch(url: &str, init: &RequestInit) -> js_sys::Promise {
    fetch_js(url, init)
}

/// The global `name` (a constructor such as `MediaSource`), where the scope has it.
pub(crate) fn lookup(name: &str) -> Option<JsValue> {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str(name))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}
