-- Up Migration
-- How a buyer can be reached: a mobile number (SMS), a WeChat openid (subscription messages) and an
-- email address, each optional. Personal data: nothing outside the member and notification modules
-- reads it, events never carry it (they carry the member id), and the logger redacts it.
CREATE TABLE member.contacts (
  member_id      text PRIMARY KEY REFERENCES member.members (id),
  mobile         text CHECK (mobile ~ '^1[3-9][0-9]{9}$'),
  email          text CHECK (length(email) <= 254 AND email LIKE '%_@_%'),
  wechat_openid  text CHECK (wechat_openid ~ '^[A-Za-z0-9_-]{6,64}$'),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE member.contacts;
