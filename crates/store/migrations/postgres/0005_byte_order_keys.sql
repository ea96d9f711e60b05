-- Stream names and ids are compared byte by byte ("C" collation). Under the database's default
-- collation every index comparison of these keys went through the locale (strcoll), which was
-- the largest cost of an import on the server. The order is the same for UTF-8 text: C.UTF-8
-- and "C" both order by code point. The indexes on these columns are rebuilt; the rows stay.
ALTER TABLE events ALTER COLUMN stream TYPE TEXT COLLATE "C";
ALTER TABLE events ALTER COLUMN id TYPE TEXT COLLATE "C";
