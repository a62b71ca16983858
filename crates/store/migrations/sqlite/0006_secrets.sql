-- Webhook signing secrets are sealed at rest (v1:<base64(nonce || ciphertext)>, under a key
-- kept outside the database); a rotated endpoint keeps its previous sealed secret, which
-- also signs until previous_until (Unix ms).
ALTER TABLE webhooks ADD COLUMN previous_secret TEXT;
ALTER TABLE webhooks ADD COLUMN previous_until INTEGER;

-- One row: a constant sealed under the key, so a start with another key is refused before
-- it signs anything.
CREATE TABLE secret_key_check (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    sealed TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
