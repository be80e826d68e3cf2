-- An order's payment deadline may be extended once (`checkout_extend_secs`).
ALTER TABLE orders ADD COLUMN extended BIGINT NOT NULL DEFAULT 0;
