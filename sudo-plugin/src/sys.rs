//! The part of sudo's C plugin API (`include/sudo_plugin.h`, API 1.x) this plugin uses: the
//! approval plugin structure, the printf callback and the message types. Written from the header
//! of sudo 1.9.13; nothing else of sudo is linked in.
//!
//! Also the helpers that read the NULL-terminated `char *const []` arrays sudo passes.

use std::ffi::{c_char, c_int, c_uint, c_void, CStr};

/// `SUDO_API_MKVERSION(x, y)`.
pub const fn api_version(major: c_uint, minor: c_uint) -> c_uint {
    (major << 16) | minor
}

/// The API version this plugin is written against: 1.15, the first with approval plugins
/// (sudo 1.9.0). sudo refuses a plugin whose major version differs from its own and accepts
/// any older minor version.
pub const SUDO_API_VERSION: c_uint = api_version(1, 15);

/// `SUDO_APPROVAL_PLUGIN`: the `type` of an approval plugin.
pub const SUDO_APPROVAL_PLUGIN: c_uint = 4;

/// `SUDO_CONV_ERROR_MSG`: a message for the user's stderr.
pub const SUDO_CONV_ERROR_MSG: c_int = 0x0003;
/// `SUDO_CONV_INFO_MSG`: a message for the user's stdout.
pub const SUDO_CONV_INFO_MSG: c_int = 0x0004;

/// `sudo_printf_t`: `int (*)(int msg_type, const char *fmt, ...)`.
pub type SudoPrintf = unsafe extern "C" fn(msg_type: c_int, fmt: *const c_char, ...) -> c_int;

/// `sudo_conv_t`, which this plugin never calls: only its size and ABI matter (a function
/// pointer, passed as a pointer).
pub type SudoConv = *const c_void;

/// A `char * const []`: NULL-terminated array of NUL-terminated strings, owned by sudo.
pub type StringArray = *const *const c_char;

/// `open(version, conversation, printf, settings, user_info, submit_optind, submit_argv,
/// submit_envp, plugin_options, errstr)`.
pub type OpenFn = unsafe extern "C" fn(
    version: c_uint,
    conversation: SudoConv,
    sudo_printf: Option<SudoPrintf>,
    settings: StringArray,
    user_info: StringArray,
    submit_optind: c_int,
    submit_argv: StringArray,
    submit_envp: StringArray,
    plugin_options: StringArray,
    errstr: *mut *const c_char,
) -> c_int;

/// `check(command_info, run_argv, run_envp, errstr)`.
pub type CheckFn = unsafe extern "C" fn(
    command_info: StringArray,
    run_argv: StringArray,
    run_envp: StringArray,
    errstr: *mut *const c_char,
) -> c_int;

/// `struct approval_plugin`.
#[repr(C)]
pub struct ApprovalPlugin {
    /// Always [`SUDO_APPROVAL_PLUGIN`].
    pub plugin_type: c_uint,
    /// Always [`SUDO_API_VERSION`].
    pub version: c_uint,
    /// `open(version, conversation, printf, settings, user_info, submit_optind, submit_argv,
    /// submit_envp, plugin_options, errstr)`: 1 ok, 0 disable the plugin, -1 error, -2 usage.
    pub open: Option<OpenFn>,
    /// `close()`, after each check (errstr has been consumed by then).
    pub close: Option<unsafe extern "C" fn()>,
    /// `check(command_info, run_argv, run_envp, errstr)`: 1 approve, 0 refuse, -1 error.
    pub check: Option<CheckFn>,
    /// `show_version(verbose)`, for `sudo -V`.
    pub show_version: Option<unsafe extern "C" fn(verbose: c_int) -> c_int>,
}

/// The strings of a sudo string array, as bytes, in order. A null array is empty.
///
/// # Safety
/// `arr` is null or points to a NULL-terminated array of pointers to NUL-terminated strings,
/// valid for the duration of the call (sudo's contract for every array it passes).
pub unsafe fn strings(arr: StringArray) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if arr.is_null() {
        return out;
    }
    let mut i = 0usize;
    loop {
        // SAFETY: `arr` is a NULL-terminated array (caller's contract) and we have not passed its
        // terminator yet, so `arr.add(i)` is in bounds and readable.
        let p = unsafe { *arr.add(i) };
        if p.is_null() {
            break;
        }
        // SAFETY: each non-null element is a NUL-terminated string owned by sudo (contract).
        out.push(unsafe { CStr::from_ptr(p) }.to_bytes().to_vec());
        i += 1;
    }
    out
}

/// The value of `key=` in a list of `key=value` strings (the first occurrence).
pub fn lookup<'a>(list: &'a [Vec<u8>], key: &str) -> Option<&'a [u8]> {
    list.iter().find_map(|kv| {
        kv.strip_prefix(key.as_bytes())
            .and_then(|rest| rest.strip_prefix(b"="))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    #[test]
    fn reads_string_arrays_and_looks_up_keys() {
        let owned: Vec<CString> = ["user=alice", "uid=1000", "tty=/dev/pts/3", "user_x=no"]
            .iter()
            .map(|s| CString::new(*s).unwrap())
            .collect();
        let mut ptrs: Vec<*const c_char> = owned.iter().map(|s| s.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        // SAFETY: `ptrs` is NULL-terminated and the strings outlive the call.
        let list = unsafe { strings(ptrs.as_ptr()) };
        assert_eq!(list.len(), 4);
        assert_eq!(lookup(&list, "user"), Some(&b"alice"[..]));
        assert_eq!(lookup(&list, "tty"), Some(&b"/dev/pts/3"[..]));
        assert_eq!(lookup(&list, "cwd"), None);
        // SAFETY: a null array is allowed.
        assert!(unsafe { strings(std::ptr::null()) }.is_empty());
    }

    #[test]
    fn version_is_api_one() {
        assert_eq!(SUDO_API_VERSION >> 16, 1);
        assert_eq!(api_version(1, 21), 0x10015);
    }
}
