-- Up Migration
-- Logistics (issue 13 part A): the GB/T 2260 region table, members' saved addresses, the address each
-- order ships to (only here, where it is needed to ship: personal data), freight templates (运费模板),
-- SKU weights for freight by weight, and the sales channel of every order in the orders projection.
CREATE SCHEMA IF NOT EXISTS logistics;

-- Administrative divisions (GB/T 2260): level 1 province-level, 2 prefecture-level city, 3 county-level district.
CREATE TABLE logistics.regions (
  code        char(6) PRIMARY KEY CHECK (code ~ '^[1-9][0-9]{5}$'),
  name        text NOT NULL CHECK (length(name) > 0),
  level       smallint NOT NULL CHECK (level BETWEEN 1 AND 3),
  parent_code char(6) REFERENCES logistics.regions (code),
  CHECK ((level = 1) = (parent_code IS NULL))
);

-- A member's saved addresses; one default at most. Deleting one deletes it (personal data is not kept).
CREATE TABLE logistics.member_addresses (
  address_id    text PRIMARY KEY,
  member_id     text NOT NULL,
  recipient     text NOT NULL CHECK (length(recipient) BETWEEN 1 AND 50),
  mobile        text NOT NULL CHECK (length(mobile) BETWEEN 8 AND 16),
  province_code char(6) NOT NULL REFERENCES logistics.regions (code),
  city_code     char(6) NOT NULL REFERENCES logistics.regions (code),
  district_code char(6) NOT NULL REFERENCES logistics.regions (code),
  street        text NOT NULL CHECK (length(street) BETWEEN 1 AND 200),
  postcode      text CHECK (postcode ~ '^[0-9]{6}$'),
  is_default    boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX member_addresses_by_member ON logistics.member_addresses (member_id, created_at);
CREATE UNIQUE INDEX member_addresses_one_default ON logistics.member_addresses (member_id) WHERE is_default;

-- Where an order ships: written by the order workflow (placement and every accepted change); only a
-- newer version replaces a row, so a retried or late write never moves an address back.
CREATE TABLE logistics.order_addresses (
  order_id      text PRIMARY KEY,
  version       integer NOT NULL CHECK (version >= 1),
  recipient     text NOT NULL,
  mobile        text NOT NULL,
  province_code char(6) NOT NULL REFERENCES logistics.regions (code),
  city_code     char(6) NOT NULL REFERENCES logistics.regions (code),
  district_code char(6) NOT NULL REFERENCES logistics.regions (code),
  street        text NOT NULL,
  postcode      text,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- 运费模板: by weight (grams) or pieces, first unit + each additional, a free-shipping threshold.
CREATE TABLE logistics.freight_templates (
  template_id      text PRIMARY KEY,
  name             text NOT NULL,
  basis            text NOT NULL CHECK (basis IN ('WEIGHT', 'PIECE')),
  first_units      integer NOT NULL CHECK (first_units > 0),
  first_fen        integer NOT NULL CHECK (first_fen >= 0),
  additional_units integer NOT NULL CHECK (additional_units > 0),
  additional_fen   integer NOT NULL CHECK (additional_fen >= 0),
  free_over_fen    integer CHECK (free_over_fen >= 0),
  is_default       boolean NOT NULL DEFAULT false,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX freight_templates_one_default ON logistics.freight_templates (is_default) WHERE is_default;

-- Per region (province, city or district code; the most specific applies): other prices, a remote
-- surcharge, or not delivered to at all.
CREATE TABLE logistics.freight_region_rules (
  template_id    text NOT NULL REFERENCES logistics.freight_templates (template_id) ON DELETE CASCADE,
  region_code    char(6) NOT NULL REFERENCES logistics.regions (code),
  first_fen      integer CHECK (first_fen >= 0),
  additional_fen integer CHECK (additional_fen >= 0),
  surcharge_fen  integer NOT NULL DEFAULT 0 CHECK (surcharge_fen >= 0),
  delivers       boolean NOT NULL DEFAULT true,
  PRIMARY KEY (template_id, region_code)
);

-- Freight by weight needs the SKU's shipping weight.
ALTER TABLE catalog.skus ADD COLUMN weight_grams integer NOT NULL DEFAULT 0 CHECK (weight_grams >= 0);

-- The order's sales channel (app, mini_program, h5, live_stream, pos), for lists and per-channel reports.
ALTER TABLE orders.orders ADD COLUMN channel text;
CREATE INDEX orders_by_channel ON orders.orders (channel, created_at);
-- The channel of a flash-sale admission until its order workflow runs (the sweeper may start it later).
CREATE TABLE orders.placement_channels (
  order_id   text PRIMARY KEY,
  channel    jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The seed: every province-level division and a set of cities and districts (GB/T 2260 codes).
INSERT INTO logistics.regions (code, name, level, parent_code) VALUES
  ('110000', '北京市', 1, NULL), ('120000', '天津市', 1, NULL), ('130000', '河北省', 1, NULL),
  ('140000', '山西省', 1, NULL), ('150000', '内蒙古自治区', 1, NULL), ('210000', '辽宁省', 1, NULL),
  ('220000', '吉林省', 1, NULL), ('230000', '黑龙江省', 1, NULL), ('310000', '上海市', 1, NULL),
  ('320000', '江苏省', 1, NULL), ('330000', '浙江省', 1, NULL), ('340000', '安徽省', 1, NULL),
  ('350000', '福建省', 1, NULL), ('360000', '江西省', 1, NULL), ('370000', '山东省', 1, NULL),
  ('410000', '河南省', 1, NULL), ('420000', '湖北省', 1, NULL), ('430000', '湖南省', 1, NULL),
  ('440000', '广东省', 1, NULL), ('450000', '广西壮族自治区', 1, NULL), ('460000', '海南省', 1, NULL),
  ('500000', '重庆市', 1, NULL), ('510000', '四川省', 1, NULL), ('520000', '贵州省', 1, NULL),
  ('530000', '云南省', 1, NULL), ('540000', '西藏自治区', 1, NULL), ('610000', '陕西省', 1, NULL),
  ('620000', '甘肃省', 1, NULL), ('630000', '青海省', 1, NULL), ('640000', '宁夏回族自治区', 1, NULL),
  ('650000', '新疆维吾尔自治区', 1, NULL), ('710000', '台湾省', 1, NULL), ('810000', '香港特别行政区', 1, NULL),
  ('820000', '澳门特别行政区', 1, NULL);
INSERT INTO logistics.regions (code, name, level, parent_code) VALUES
  ('110100', '市辖区', 2, '110000'), ('120100', '市辖区', 2, '120000'), ('130100', '石家庄市', 2, '130000'),
  ('310100', '市辖区', 2, '310000'), ('320100', '南京市', 2, '320000'), ('320500', '苏州市', 2, '320000'),
  ('330100', '杭州市', 2, '330000'), ('330200', '宁波市', 2, '330000'), ('340100', '合肥市', 2, '340000'),
  ('350200', '厦门市', 2, '350000'), ('370200', '青岛市', 2, '370000'), ('420100', '武汉市', 2, '420000'),
  ('440100', '广州市', 2, '440000'), ('440300', '深圳市', 2, '440000'), ('460100', '海口市', 2, '460000'),
  ('500100', '市辖区', 2, '500000'), ('510100', '成都市', 2, '510000'), ('530100', '昆明市', 2, '530000'),
  ('540100', '拉萨市', 2, '540000'), ('540600', '那曲市', 2, '540000'), ('610100', '西安市', 2, '610000'),
  ('620100', '兰州市', 2, '620000'), ('630100', '西宁市', 2, '630000'), ('640100', '银川市', 2, '640000'),
  ('650100', '乌鲁木齐市', 2, '650000'), ('650200', '克拉玛依市', 2, '650000'), ('150100', '呼和浩特市', 2, '150000');
INSERT INTO logistics.regions (code, name, level, parent_code) VALUES
  ('110101', '东城区', 3, '110100'), ('110102', '西城区', 3, '110100'), ('110105', '朝阳区', 3, '110100'),
  ('110108', '海淀区', 3, '110100'), ('120101', '和平区', 3, '120100'), ('130102', '长安区', 3, '130100'),
  ('310101', '黄浦区', 3, '310100'), ('310104', '徐汇区', 3, '310100'), ('310115', '浦东新区', 3, '310100'),
  ('320102', '玄武区', 3, '320100'), ('320508', '姑苏区', 3, '320500'), ('330102', '上城区', 3, '330100'),
  ('330106', '西湖区', 3, '330100'), ('330203', '海曙区', 3, '330200'), ('340102', '瑶海区', 3, '340100'),
  ('350203', '思明区', 3, '350200'), ('370202', '市南区', 3, '370200'), ('420106', '武昌区', 3, '420100'),
  ('440106', '天河区', 3, '440100'), ('440304', '福田区', 3, '440300'), ('440305', '南山区', 3, '440300'),
  ('460105', '秀英区', 3, '460100'), ('500103', '渝中区', 3, '500100'), ('510104', '锦江区', 3, '510100'),
  ('510107', '武侯区', 3, '510100'), ('530102', '五华区', 3, '530100'), ('540102', '城关区', 3, '540100'),
  ('540602', '色尼区', 3, '540600'), ('610113', '雁塔区', 3, '610100'), ('620102', '城关区', 3, '620100'),
  ('630102', '城东区', 3, '630100'), ('640104', '兴庆区', 3, '640100'), ('650102', '天山区', 3, '650100'),
  ('650104', '新市区', 3, '650100'), ('650202', '独山子区', 3, '650200'), ('150102', '新城区', 3, '150100');

-- Down Migration
DROP TABLE IF EXISTS orders.placement_channels;
DROP INDEX IF EXISTS orders.orders_by_channel;
ALTER TABLE orders.orders DROP COLUMN IF EXISTS channel;
ALTER TABLE catalog.skus DROP COLUMN IF EXISTS weight_grams;
DROP SCHEMA logistics CASCADE;
