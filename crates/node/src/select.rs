//! `select()`: Python's select on poll(2).

use std::time::Duration;

use napi_derive::napi;

use crate::error::{IntoJs, Result};

/// Python's select on poll(2): the indices of the ready entries of each list
/// (ts/ maps them back to the objects it was given).
#[napi(catch_unwind)]
pub fn select(
    read: Vec<i32>,
    write: Vec<i32>,
    except: Vec<i32>,
    timeout: Option<f64>,
) -> Result<(Vec<u32>, Vec<u32>, Vec<u32>)> {
    let raw = |fds: Vec<i32>| -> Vec<_> { fds.into_iter().map(crate::fd::from_js).collect() };
    let (read, write, except) = (raw(read), raw(write), raw(except));
    let ready =
        bsd_sockets_core::select(&read, &write, &except, timeout.map(Duration::from_secs_f64))
            .js()?;
    let idx = |v: Vec<usize>| v.into_iter().map(|i| i as u32).collect();
    Ok((idx(ready.read), idx(ready.write), idx(ready.except)))
}
