//! Checks that include/mixerlead.h is what cbindgen generates from src/ (the build fails when
//! it is stale); `MIXERLEAD_UPDATE_HEADER=1` (`make header`) rewrites it instead.

use std::path::Path;

fn main() {
    let crate_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let header = Path::new(&crate_dir).join("../include/mixerlead.h");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed={}", header.display());
    println!("cargo:rerun-if-env-changed=MIXERLEAD_UPDATE_HEADER");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmixerlead.so");

    let config = cbindgen::Config::from_file(Path::new(&crate_dir).join("cbindgen.toml")).expect("cbindgen.toml");
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
