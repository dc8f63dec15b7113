//! Checks that include/mixerlead.h is what cbindgen generates from src/ (the build fails when
//! it is stale); `MIXERLEAD_UPDATE_HEADER=1` (`make header`) rewrites it instead.

use std::path::Path;

/// The export/import macro on every declaration (cbindgen.toml's `fn.prefix`).
const ML_API: &str = r#"
/*
 * ML_API marks every function of the library. On Windows it imports them from mixerlead.dll;
 * define ML_STATIC when linking the static library instead (CMake's mixerlead::static target
 * does). Elsewhere it gives them default visibility. Define ML_API yourself to override both.
 */
#ifndef ML_API
#  if defined(_WIN32) || defined(__CYGWIN__)
#    if defined(ML_STATIC)
#      define ML_API
#    else
#      define ML_API __declspec(dllimport)
#    endif
#  elif defined(__GNUC__) && __GNUC__ >= 4
#    define ML_API __attribute__((visibility("default")))
#  else
#    define ML_API
#  endif
#endif
"#;

/// `ML_VERSION_MAJOR/MINOR/PATCH` and `ML_VERSION_STRING`: the crate's version when the header
/// was generated (the library's own is `ml_version()`).
fn version_macros() -> String {
    let part = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name}"));
    format!(
        "\n/* The version of this header; ml_version() is the library's. */\n\
         #define ML_VERSION_MAJOR {}\n#define ML_VERSION_MINOR {}\n#define ML_VERSION_PATCH {}\n\
         #define ML_VERSION_STRING \"{}\"\n",
        part("CARGO_PKG_VERSION_MAJOR"),
        part("CARGO_PKG_VERSION_MINOR"),
        part("CARGO_PKG_VERSION_PATCH"),
        part("CARGO_PKG_VERSION"),
    )
}

/// The name the shared library records for its dependents, carrying the ABI version (the major
/// version): `libmixerlead.so.0` as the ELF SONAME, `@rpath/libmixerlead.0.dylib` as the macOS
/// install name. Windows has none: a program names `mixerlead.dll`.
fn shared_library_name_arg() -> Option<String> {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets CARGO_PKG_VERSION_MAJOR");
    match std::env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("macos" | "ios") => Some(format!("-Wl,-install_name,@rpath/libmixerlead.{major}.dylib")),
        Ok("windows") => None,
        _ => Some(format!("-Wl,-soname,libmixerlead.so.{major}")),
    }
}

fn main() {
    let crate_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let header = Path::new(&crate_dir).join("../include/mixerlead.h");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed={}", header.display());
    println!("cargo:rerun-if-env-changed=MIXERLEAD_UPDATE_HEADER");
    if let Some(arg) = shared_library_name_arg() {
        println!("cargo:rustc-cdylib-link-arg={arg}");
    }

    let mut config = cbindgen::Config::from_file(Path::new(&crate_dir).join("cbindgen.toml")).expect("cbindgen.toml");
    config.after_includes =
        Some(format!("{}{}\n{}", version_macros(), ML_API, config.after_includes.unwrap_or_default()));
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let current = std::fs::read(&header).unwrap_or_default();
    if std::env::var("MIXERLEAD_UPDATE_HEADER").as_deref() == Ok("1") {
        if current != generated {
            std::fs::write(&header, &generated).expect("write include/mixerlead.h");
        }
    } else if current != generated {
        panic!("include/mixerlead.h is stale: it differs from what cbindgen generates from bindings-c/src. Run `make header` and commit it.");
    }
}
