//! `vibemesh-web-bindgen IN.wasm OUT_DIR`: generates the browser client's JavaScript glue
//! (`--target web`, ES module) and its TypeScript declarations (the page's JS is checked
//! against them) next to the processed `.wasm`.

use anyhow::Context as _;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args_os().skip(1);
    let (Some(input), Some(out)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: vibemesh-web-bindgen IN.wasm OUT_DIR");
    };
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&input)
        .web(true)?
        .typescript(true)
        .generate(&out)
        .with_context(|| format!("generating bindings for {}", input.to_string_lossy()))?;
    Ok(())
}
