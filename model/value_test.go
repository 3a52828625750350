package model

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/fields"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// storedIn returns the stored value of key in an encoded document, as ToStored gives it.
func storedIn(t *testing.T, raw bson.Raw, key string) any {
	t.Helper()
	rv, err := raw.LookupErr(key)
	require.NoError(t, err, key)
	x, err := decodeStored(byte(rv.Type), rv.Value)
	require.NoError(t, err)
	return x
}

// Every field's own Go value converts to exactly what Encode stores for it.
func TestToStoredMatchesTheCodecForEveryKind(t *testing.T) {
	t.Parallel()
	m := kindsMeta(t)
	for _, obj := range []*allKinds{fullKinds(), {}} {
		raw, err := m.Encode(obj)
		require.NoError(t, err)
		for _, f := range m.Fields {
			v, err := f.Get(obj)
			require.NoError(t, err)
			got, err := f.ToStored(v)
			require.NoError(t, err, f.Name)
			if _, lookErr := bson.Raw(raw).LookupErr(f.Column); lookErr != nil {
				assert.Equal(t, Unset, got, "%s is not stored: Unset", f.Name)
				continue
			}
			assert.Equal(t, storedIn(t, raw, f.Column), got, f.Name)
			// A pointer to the value converts the same way.
			pv := reflect.New(reflect.TypeOf(v))
			pv.Elem().Set(reflect.ValueOf(v))
			got2, err := f.ToStored(pv.Interface())
			require.NoError(t, err, f.Name)
			assert.Equal(t, got, got2, "%s through a pointer", f.Name)
		}
	}
}

// The fast paths agree with the codec path they shortcut.
func TestToStoredFastPathsAgreeWithTheCodec(t *testing.T) {
	t.Parallel()
	m := kindsMeta(t)
	cases := map[string][]any{
		"s":   {"", "héllo", "$gt", "a.b"},
		"i":   {0, -1, math.MaxInt64, int64(math.MinInt64)},
		"i8":  {0, -128, 127},
		"i32": {int32(7), 1 << 20, -5},
		"u32": {0, math.MaxUint32},
		"f32": {0.1, 3, -2.5},
		"f64": {0.1, 3, math.Inf(1)},
		"b":   {true, false},
		"t":   {time.Date(2020, 1, 2, 3, 4, 5, 678_901_234, time.UTC), time.Time{}},
		"d":   {fields.Date{Year: 2020, Month: 2, Day: 29}, fields.Date{}},
		"oid": {bson.NewObjectID()},
	}
	for name, vals := range cases {
		f, ok := m.Field(name)
		require.True(t, ok, name)
		for _, v := range vals {
			fast, handled, err := fastStored(f.codec, v)
			require.True(t, handled, "%s %v", name, v)
			require.NoError(t, err)
			dst := reflect.New(f.codec.typ)
			require.NoError(t, assign(f.codec, dst.Elem(), v))
			buf, typ, err := f.codec.enc(nil, dst.UnsafePointer())
			require.NoError(t, err)
			slow, err := decodeStored(typ, buf)
			require.NoError(t, err)
			assert.Equal(t, slow, fast, "%s %v", name, v)
		}
	}
}

func TestToStoredCompatibleValues(t *testing.T) {
	t.Parallel()
	m := kindsMeta(t)
	noon := time.Date(2021, 3, 4, 12, 30, 15, 999_999_999, time.FixedZone("X", 3600))
	uuid := kUUID{0: 1, 15: 2}
	dec, _ := bson.ParseDecimal128("12.50")
	type myString string
	type myInt int16
	cases := []struct {
		field string
		in    any
		want  any
	}{
		{"s", myString("x"), "x"},
		{"st", "draft", "draft"},
		{"sp", "y", "y"},
		{"sp", (*string)(nil), nil},
		{"sp", nil, nil},
		{"i8", myInt(-7), int32(-7)},
		{"i8", 3.0, int32(3)},
		{"i", int32(5), int64(5)},
		{"i32", uint8(200), int32(200)},
		{"u32", 7, int64(7)},
		{"lvl", 2, int32(2)},
		{"ip", 9, int64(9)},
		{"f32", 1, float64(1)},
		{"f32", 0.1, float64(float32(0.1))},
		{"f64", int64(3), 3.0},
		{"fp", nil, nil},
		{"dec", 12, decimalFromInt(12)},
		{"dec", dec, dec},
		{"dec", "12.50", dec},
		{"dec", 0.5, decimalFromFloat(0.5)},
		{"apd", *apd.New(1250, -2), dec},
		{"apd", apd.New(1250, -2), dec},
		{"apd", "12.50", dec},
		{"dec_p", nil, nil},
		{"b", true, true},
		{"bp", false, false},
		{"t", noon, bson.DateTime(noon.UnixMilli())},
		{"t", fields.Date{Year: 2021, Month: 3, Day: 4}, bson.DateTime(time.Date(2021, 3, 4, 0, 0, 0, 0, time.UTC).UnixMilli())},
		{"t", "2021-03-04T12:30:15.5Z", bson.DateTime(time.Date(2021, 3, 4, 12, 30, 15, 5e8, time.UTC).UnixMilli())},
		{"tp", &noon, bson.DateTime(noon.UnixMilli())},
		{"d", noon, bson.DateTime(time.Date(2021, 3, 4, 0, 0, 0, 0, time.UTC).UnixMilli())},
		{"d", "2021-03-04", bson.DateTime(time.Date(2021, 3, 4, 0, 0, 0, 0, time.UTC).UnixMilli())},
		{"d", time.Date(2021, 3, 4, 23, 0, 0, 0, time.FixedZone("W", -3600)), bson.DateTime(time.Date(2021, 3, 5, 0, 0, 0, 0, time.UTC).UnixMilli())},
		{"tod", fields.NewTimeOfDay(1, 2, 3, 4), int64(fields.NewTimeOfDay(1, 2, 3, 4))},
		{"tod", "01:02:03.000004", int64(fields.NewTimeOfDay(1, 2, 3, 4))},
		{"tod", time.Date(2000, 1, 1, 1, 2, 3, 4000, time.UTC), int64(fields.NewTimeOfDay(1, 2, 3, 4))},
		{"dur", 90 * time.Minute, int64(90 * time.Minute)},
		{"dur", "1h30m", int64(90 * time.Minute)},
		{"u", uuid, bson.Binary{Subtype: 4, Data: uuid[:]}},
		{"u", [16]byte(uuid), bson.Binary{Subtype: 4, Data: uuid[:]}},
		{"u", "01000000-0000-0000-0000-000000000002", bson.Binary{Subtype: 4, Data: uuid[:]}},
		{"u", bson.Binary{Subtype: 4, Data: uuid[:]}, bson.Binary{Subtype: 4, Data: uuid[:]}},
		{"up", nil, nil},
		{"bin", []byte{1, 2}, bson.Binary{Subtype: 0, Data: []byte{1, 2}}},
		{"oid", "5f0c0000000000000000000a", bson.ObjectID{0x5f, 0x0c, 11: 0x0a}},
		{"email", "a@b.c", "a@b.c"},
		{"j_any", map[string]any{"b": 1, "a": "x"}, bson.D{{Key: "a", Value: "x"}, {Key: "b", Value: int32(1)}}},
		{"j_any", fields.JSONNull, nil},
		{"j_any", nil, Unset},
		{"j_any", "$where", "$where"},
		{"j_map", map[string]any{"$ne": 1}, bson.D{{Key: "$ne", Value: int32(1)}}},
		{"j_map", nil, Unset},
		{"j", fields.JSON{Null: true}, nil},
		{"j", fields.JSON{}, Unset},
		{"j_arr", []any{1, "a"}, bson.A{int32(1), "a"}},
		{"ints", []int{1, 2}, bson.A{int64(1), int64(2)}},
		{"ints", bson.A{int32(3)}, bson.A{int64(3)}},
		{"ints", []int64(nil), bson.A{}},
		{"grid", [][]myString{{"a"}, nil}, bson.A{bson.A{"a"}, bson.A{}}},
		{"ptr_el", []any{"a", nil}, bson.A{"a", nil}},
		{"times", []time.Time{noon}, bson.A{bson.DateTime(noon.UnixMilli())}},
		{"addr", kAddr{City: "Paris"}, bson.D{{Key: "street", Value: ""}, {Key: "city", Value: "Paris"}, {Key: "geo", Value: nil}, {Key: "lines", Value: bson.A{}}}},
		{"addr_p", &kAddr{City: "P"}, bson.D{{Key: "street", Value: ""}, {Key: "city", Value: "P"}, {Key: "geo", Value: nil}, {Key: "lines", Value: bson.A{}}}},
		{"addr_p", nil, nil},
		{"pay", kBank{IBAN: "X"}, bson.D{{Key: "_label", Value: "kBank"}, {Key: "iban", Value: "X"}}},
		{"pay", nil, nil},
		{"id", "5f0c0000000000000000000a", bson.ObjectID{0x5f, 0x0c, 11: 0x0a}},
		{"pk", bson.ObjectID{1}, bson.ObjectID{1}},
	}
	for _, c := range cases {
		f, ok := m.Field(c.field)
		require.True(t, ok, c.field)
		got, err := f.ToStored(c.in)
		if assert.NoError(t, err, "%s %#v", c.field, c.in) {
			assert.Equal(t, c.want, got, "%s %#v", c.field, c.in)
		}
	}
	// Sub-fields of embedded models convert too.
	city, _ := m.Field("addr")
	c2, ok := city.Embedded.Field("city")
	require.True(t, ok)
	got, err := c2.ToStored("Lyon")
	require.NoError(t, err)
	assert.Equal(t, "Lyon", got)
}

func TestToStoredRejectsIncompatibleValues(t *testing.T) {
	t.Parallel()
	m := kindsMeta(t)
	cases := []struct {
		field string
		in    any
		msg   string
	}{
		{"s", 5, "cannot use a int value"},
		{"s", nil, "nil is not a value"},
		{"i8", 128, "out of range for int8"},
		{"i8", 1.5, "not a whole number"},
		{"i8", "1", "cannot use a string value"},
		{"i8", time.Second, "cannot use a time.Duration value"},
		{"u32", -1, "out of range for uint32"},
		{"i", uint64(math.MaxUint64), "out of range"},
		{"f32", 1e300, "out of range for float32"},
		{"f64", "1", "cannot use a string"},
		{"b", 1, "cannot use a int value"},
		{"t", 5, "cannot use a int value"},
		{"t", "yesterday", "RFC 3339"},
		{"t", time.Date(300_000_000, 1, 1, 0, 0, 0, 0, time.UTC), "outside the range of a BSON date"},
		{"d", "2021-02-30", "invalid date"},
		{"tod", 5, "cannot use a int value"},
		{"tod", "25:00", "invalid time of day"},
		{"dur", 5, "cannot use a int value"},
		{"u", "nope", "want a UUID"},
		{"u", [15]byte{}, "cannot use a [15]uint8"},
		{"bin", "x", "cannot use a string"},
		{"oid", "xyz", "24 hex digits"},
		{"dec", "1.2.3", "invalid decimal"},
		{"dec", true, "cannot use a bool"},
		{"j_map", []any{1}, "cannot use a []interface {}"},
		{"ints", "abc", "cannot use a string"},
		{"ints", []string{"a"}, "element 0"},
		{"addr", kCard{}, "cannot use a model.kCard"},
		{"pay", kAddr{}, "kAddr"},
	}
	for _, c := range cases {
		f, ok := m.Field(c.field)
		require.True(t, ok, c.field)
		_, err := f.ToStored(c.in)
		if assert.Error(t, err, "%s %#v", c.field, c.in) {
			assert.Contains(t, err.Error(), c.msg, "%s %#v", c.field, c.in)
			assert.True(t, strings.HasPrefix(err.Error(), "modjo: allKinds."+c.field+" ("), err.Error())
		}
	}
}

type cpLine struct {
	Base
	Order int32  `modjo:"primary_key"`
	Line  int16  `modjo:"primary_key;db_column=ln"`
	Note  string `modjo:"max_length=10"`
}

func TestToStoredCompositeKey(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	require.NoError(t, r.Register(cpLine{}))
	m, _ := r.Meta(cpLine{})
	want := bson.D{{Key: "order", Value: int32(7)}, {Key: "ln", Value: int32(2)}}
	for _, in := range []any{
		[]any{7, 2},
		[2]int{7, 2},
		bson.D{{Key: "line", Value: 2}, {Key: "order", Value: 7}},
		bson.M{"order": 7, "ln": 2},
		map[string]any{"order": int64(7), "line": int8(2)},
		&cpLine{Order: 7, Line: 2},
		cpLine{Order: 7, Line: 2, Note: "x"},
	} {
		got, err := m.PK.ToStored(in)
		if assert.NoError(t, err, "%#v", in) {
			assert.Equal(t, want, got, "%#v", in)
		}
	}
	for in, msg := range map[any]string{
		"x":                "cannot use a string",
		nil:                "nil is not a primary key",
		[1]int{7}:          "want a tuple of 2 values, got 1",
		[2]int{7, 1 << 20}: "out of range for int16",
	} {
		_, err := m.PK.ToStored(in)
		if assert.Error(t, err, "%#v", in) {
			assert.Contains(t, err.Error(), msg)
		}
	}
	_, err := m.PK.ToStored(bson.D{{Key: "order", Value: 1}})
	assert.ErrorContains(t, err, `missing member "line"`)
	_, err = m.PK.ToStored(bson.D{{Key: "order", Value: 1}, {Key: "line", Value: 1}, {Key: "x", Value: 1}})
	assert.ErrorContains(t, err, "unknown keys")
	// Members convert on their own too, with their own types.
	line, _ := m.Field("line")
	got, err := line.ToStored(3)
	require.NoError(t, err)
	assert.Equal(t, int32(3), got)
}

func BenchmarkToStored(b *testing.B) {
	m := kindsMeta(b)
	s, _ := m.Field("s")
	i32, _ := m.Field("i32")
	tm, _ := m.Field("t")
	u, _ := m.Field("u")
	now := time.Now()
	uuid := kUUID{1}
	b.Run("string", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = s.ToStored("hello")
		}
	})
	b.Run("int", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = i32.ToStored(1234)
		}
	})
	b.Run("time", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = tm.ToStored(now)
		}
	})
	b.Run("uuid-codec", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = u.ToStored(uuid)
		}
	})
}
