//! Time for the engine: the global scope's clock and one re-armable timer per session.
//!
//! Works in a window and in a worker alike (`performance`, `setTimeout` and `clearTimeout` are
//! looked up on the global scope, not on `window`).

use std::cell::Cell;
use std::rc::Rc;

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::convert::get;

/// Milliseconds of the global scope's monotonic clock (`performance.now()`, else `Date.now()`).
pub(crate) fn now_ms() -> f64 {
    let global = js_sys::global();
    let performance = get(&global, "performance");
    match performance.dyn_ref::<web_sys::Performance>() {
        Some(p) => p.now(),
        None => js_sys::Date::now(),
    }
}

/// The armed timeout: its JS id and the engine deadline (ms) it fires at.
type Armed = Rc<Cell<Option<(i32, u64)>>>;

/// One `setTimeout` at a time for the engine's next deadline. Its closure is created once and
/// dropped with the timer, after the pending timeout (if any) is cleared.
pub(crate) struct Timer {
    armed: Armed,
    on_fire: Closure<dyn FnMut()>,
}

impl Timer {
    /// A timer that calls `fire` when an armed deadline is reached. `fire` must hold only a
    /// `Weak` to whatever owns the timer.
    pub(crate) fn new(mut fire: impl FnMut() + 'static) -> Timer {
        let armed: Armed = Rc::default();
        let fired = armed.clone();
        let on_fire = Closure::wrap(Box::new(move || {
            fired.set(None);
            fire();
        }) as Box<dyn FnMut()>);
        Timer { armed, on_fire }
    }

    /// Arms the timer for `deadline` (engine ms; `now` is the engine's time now), or disarms it
    /// for `None`. Every octet that arrives pushes the deadline out; a timer that fires early
    /// just re-arms, so a streaming RETR costs one timer per timeout period, not one per frame.
    pub(crate) fn arm(&self, deadline: Option<u64>, now: u64) {
        match (self.armed.get(), deadline) {
            (Some((_, armed)), Some(deadline)) if armed <= deadline => return,
            (Some((id, _)), _) => {
                clear_timeout(id);
                self.armed.set(None);
            }
            (None, _) => {}
        }
        let Some(deadline) = deadline else { return };
        let delay = deadline.saturating_sub(now).min(i32::MAX as u64) as i32;
        let id = set_timeout(self.on_fire.as_ref().unchecked_ref(), delay);
        self.armed.set(id.map(|id| (id, deadline)));
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some((id, _)) = self.armed.take() {
            clear_timeout(id);
        }
        // `on_fire` drops after this: no timeout refers to it any more.
    }
}

thread_local! {
    /// `setTimeout` and `clearTimeout` of the global scope (window or worker), looked up once.
    static TIMERS: Option<(Function, Function)> = {
        let global = js_sys::global();
        let set = get(&global, "setTimeout").dyn_into::<Function>().ok();
        let clear = get(&global, "clearTimeout").dyn_into::<Function>().ok();
        set.zip(clear)
    };
}

fn set_timeout(callback: &Function, delay: i32) -> Option<i32> {
    TIMERS.with(|timers| {
        let (set, _) = timers.as_ref()?;
        let id = set
            .call2(&JsValue::UNDEFINED, callback, &JsValue::from(delay))
            .ok()?;
        id.as_f64().map(|id| id as i32)
    })
}

fn clear_timeout(id: i32) {
    TIMERS.with(|timers| {
        if let Some((_, clear)) = timers {
            let _ = clear.call1(&JsValue::UNDEFINED, &JsValue::from(id));
        }
    });
}
