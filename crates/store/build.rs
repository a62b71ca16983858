// `sqlx::migrate!` embeds the migration files at compile time; without this, adding one
// does not rebuild the crate (sqlx's documented build script).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
