-- A key's value is stored only as a hash; its mask (first and last four characters) lets a
-- listing tell keys apart. Keys made before this migration have none.
ALTER TABLE personal_api_keys ADD COLUMN mask_value text;
