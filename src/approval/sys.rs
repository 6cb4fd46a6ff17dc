//! File access for the spool without following symlinks: the directory is reached component by
//! component with `O_NOFOLLOW`, and every file in it is opened relative to the directory's
//! descriptor with `O_NOFOLLOW` (and `O_EXCL` when created). The only `unsafe` of the approval
//! module: taking ownership of the descriptors `openat(2)` returns.

use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Component, Path};

fn openat_owned(
    dir: Option<&OwnedFd>,
    name: &Path,
    flags: OFlag,
    mode: u32,
) -> io::Result<OwnedFd> {
    let raw = nix::fcntl::openat(
        dir.map(AsRawFd::as_raw_fd),
        name,
        flags | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(mode),
    )?;
    // SAFETY: openat returned a new, open descriptor that nothing else owns; OwnedFd takes
    // sole ownership and closes it on drop.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Open the directory at `path` for reading, refusing a symlink at any component.
pub(crate) fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    let mut cur = if path.is_absolute() {
        openat_owned(None, Path::new("/"), OFlag::O_PATH | OFlag::O_DIRECTORY, 0)?
    } else {
        openat_owned(None, Path::new("."), OFlag::O_PATH | OFlag::O_DIRECTORY, 0)?
    };
    let comps: Vec<Component<'_>> = path
        .components()
        .filter(|c| !matches!(c, Component::RootDir | Component::CurDir))
        .collect();
    for (i, c) in comps.iter().enumerate() {
        let name = Path::new(c.as_os_str());
        let last = i + 1 == comps.len();
        let flags = if last {
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW
        } else {
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW
        };
        cur = openat_owned(Some(&cur), name, flags, 0)?;
    }
    if comps.is_empty() {
        cur = openat_owned(
            Some(&cur),
            Path::new("."),
            OFlag::O_RDONLY | OFlag::O_DIRECTORY,
            0,
        )?;
    }
    Ok(cur)
}

/// Open `name` in `dir` for reading: no symlink, no FIFO blocking, no controlling terminal.
pub(crate) fn open_read(dir: &OwnedFd, name: &str) -> io::Result<File> {
    let fd = openat_owned(
        Some(dir),
        Path::new(name),
        OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_NOCTTY,
        0,
    )?;
    Ok(File::from(fd))
}

/// Create `name` in `dir`, which must not exist (not even as a dangling symlink).
pub(crate) fn create_excl(dir: &OwnedFd, name: &str, mode: u32) -> io::Result<File> {
    let fd = openat_owned(
        Some(dir),
        Path::new(name),
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_NOCTTY,
        mode,
    )?;
    Ok(File::from(fd))
}

/// The names in `dir`, without `.` and `..`; names that are not UTF-8 are skipped.
pub(crate) fn list(dir: &OwnedFd) -> io::Result<Vec<String>> {
    let mut d = nix::dir::Dir::openat(
        Some(dir.as_raw_fd()),
        ".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let mut names = Vec::new();
    for entry in d.iter() {
        let entry = entry?;
        if let Ok(name) = entry.file_name().to_str() {
            if name != "." && name != ".." {
                names.push(name.to_string());
            }
        }
    }
    names.sort();
    Ok(names)
}

/// The metadata of an open directory.
pub(crate) fn dir_metadata(dir: &OwnedFd) -> io::Result<std::fs::Metadata> {
    File::from(dir.try_clone()?).metadata()
}
