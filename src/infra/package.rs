//! Lambda code: engineer scaffolds a starter handler in `src/{name}/` (only
//! when the folder is missing: the code is the user's), and preview packages
//! each `src/{name}/` into the `build/{name}.zip` the generated Terraform
//! references, before planning.
//!
//! Zips are deterministic (sorted entries, fixed timestamps, stored), so the
//! same code gives the same bytes and the plan shows no spurious update.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::workspace::Workspace;

/// The starter handler for `runtime` and `handler` (`index.handler`): file name and content.
pub fn starter(runtime: &str, handler: &str) -> (String, String) {
    let (module, function) = handler.rsplit_once('.').unwrap_or(("index", "handler"));
    if runtime.starts_with("nodejs") {
        (
            format!("{module}.mjs"),
            format!(
                "// Starter handler written by faber-cloud engineer: replace with your code.\nexport const {function} = async (event) => {{\n  console.log(JSON.stringify({{ level: \"INFO\", message: \"request\", path: event?.rawPath }}));\n  return {{ statusCode: 200, body: JSON.stringify({{ ok: true }}) }};\n}};\n"
            ),
        )
    } else {
        (
            format!("{module}.py"),
            format!(
                "\"\"\"Starter handler written by faber-cloud engineer: replace with your code.\"\"\"\nimport json\n\n\ndef {function}(event, context):\n    print(json.dumps({{\"level\": \"INFO\", \"message\": \"request\", \"path\": (event or {{}}).get(\"rawPath\")}}))\n    return {{\"statusCode\": 200, \"body\": json.dumps({{\"ok\": True}})}}\n"
            ),
        )
    }
}

/// Writes the starter handler into `dir/src/{name}/` unless that folder exists; returns the file written.
pub fn scaffold(ws: &Workspace, dir: &Path, name: &str, runtime: &str, handler: &str) -> Result<Option<PathBuf>, Error> {
    let folder = dir.join("src").join(name);
    if folder.exists() {
        return Ok(None);
    }
    let (file, content) = starter(runtime, handler);
    let path = folder.join(file);
    ws.write_atomic(&path, content.as_bytes())?;
    Ok(Some(path))
}

/// The function names whose `build/{name}.zip` the `.tf` files of `dir` reference.
pub fn referenced(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "tf"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .flat_map(|text| {
            text.match_indices("/build/")
                .filter_map(|(at, m)| {
                    let rest = &text[at + m.len()..];
                    let end = rest.find(".zip\"")?;
                    let name = &rest[..end];
                    crate::vocabulary::input::is_slug(name, 64).then(|| name.to_string())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Packages `src/{name}/` into `build/{name}.zip` for every referenced function.
pub fn package_all(ws: &Workspace, dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for name in referenced(dir) {
        let src = dir.join("src").join(&name);
        let zip = dir.join("build").join(format!("{name}.zip"));
        if !src.is_dir() {
            if zip.is_file() {
                continue; // Built by the user's own tooling.
            }
            return Err(Error::Failed(format!(
                "Lambda {name}: the Terraform references build/{name}.zip, but there is no code in {} to package (put the function's code there, or build the zip yourself)",
                src.display()
            )));
        }
        let bytes = zip_dir(&src)?;
        if std::fs::read(&zip).ok().as_deref() != Some(bytes.as_slice()) {
            ws.write_atomic(&zip, &bytes)?;
        }
        out.push(zip);
    }
    Ok(out)
}

/// A deterministic zip of a folder's files (relative paths, sorted, stored, 1980-01-01 timestamps).
pub fn zip_dir(src: &Path) -> Result<Vec<u8>, Error> {
    let mut files = Vec::new();
    collect(src, src, &mut files)?;
    files.sort();
    let io = |e: std::io::Error| Error::Failed(format!("packaging {}: {e}", src.display()));
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for rel in files {
        let bytes = std::fs::read(src.join(&rel)).map_err(io)?;
        writer.start_file(rel.as_str(), options).map_err(|e| Error::Failed(format!("packaging {rel}: {e}")))?;
        writer.write_all(&bytes).map_err(io)?;
    }
    let cursor = writer.finish().map_err(|e| Error::Failed(format!("packaging {}: {e}", src.display())))?;
    Ok(cursor.into_inner())
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| crate::workspace::WorkspaceError::io(dir, e))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') || name == "__pycache__" {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, out)?;
        } else if path.is_file() {
            let rel = path.strip_prefix(root).expect("walked under root").to_string_lossy().replace('\\', "/");
            out.push(rel);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zips_are_deterministic_and_hold_the_code() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src/api");
        std::fs::create_dir_all(src.join("lib")).unwrap();
        std::fs::write(src.join("index.py"), "def handler(e, c):\n    return 1\n").unwrap();
        std::fs::write(src.join("lib/util.py"), "X = 1\n").unwrap();
        std::fs::write(src.join(".hidden"), "no").unwrap();
        let a = zip_dir(&src).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        std::fs::write(src.join("index.py"), "def handler(e, c):\n    return 1\n").unwrap();
        assert_eq!(a, zip_dir(&src).unwrap(), "same code, same bytes");
        let archive = zip::ZipArchive::new(std::io::Cursor::new(a)).unwrap();
        let names: Vec<&str> = archive.file_names().collect();
        assert_eq!(names.len(), 2);
        assert!(names.contains(&"index.py") && names.contains(&"lib/util.py"), "{names:?}");
    }

    #[test]
    fn finds_referenced_zips() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("main.tf"),
            "resource \"aws_lambda_function\" \"a\" {\n  filename = \"${path.module}/build/api.zip\"\n}\nx = \"${path.module}/build/../evil.zip\"\n",
        )
        .unwrap();
        assert_eq!(referenced(dir.path()), ["api"]);
    }

    #[test]
    fn starters_follow_runtime_and_handler() {
        assert_eq!(starter("python3.12", "index.handler").0, "index.py");
        let (file, code) = starter("nodejs20.x", "app.main");
        assert_eq!(file, "app.mjs");
        assert!(code.contains("export const main"));
    }
}
