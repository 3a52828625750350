package value

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func dec(t testing.TB, s string) bson.Decimal128 {
	d, err := bson.ParseDecimal128(s)
	require.NoError(t, err)
	return d
}

// allTypes holds one value of every BSON type, in ascending BSON order.
func allTypes(t testing.TB) []any {
	oid, err := bson.ObjectIDFromHex("5f1d7a2b9c8e4f0012345678")
	require.NoError(t, err)
	return []any{
		bson.MinKey{},
		bson.Undefined{},
		nil,
		int32(1),
		"a",
		bson.D{{Key: "x", Value: int32(1)}},
		bson.A{int32(1), "two"},
		bson.Binary{Subtype: 4, Data: []byte("0123456789abcdef")},
		oid,
		true,
		bson.DateTime(1_600_000_000_000),
		bson.Timestamp{T: 5, I: 1},
		bson.Regex{Pattern: "^a", Options: "i"},
		bson.DBPointer{DB: "db.c", Pointer: oid},
		bson.JavaScript("function(){}"),
		bson.CodeWithScope{Code: "x", Scope: bson.D{{Key: "a", Value: int32(1)}}},
		bson.MaxKey{},
	}
}

func TestCompareTypeOrder(t *testing.T) {
	vals := allTypes(t)
	for i := range vals {
		for j := range vals {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			assert.Equal(t, want, Compare(vals[i], vals[j]), "%s vs %s", TypeName(vals[i]), TypeName(vals[j]))
		}
	}
}

func TestCompareNumbers(t *testing.T) {
	cases := []struct {
		a, b any
		want int
	}{
		{int32(1), 1.0, 0},
		{int32(1), int64(1), 0},
		{int64(1), dec(t, "1.000"), 0},
		{1.5, dec(t, "1.5"), 0},
		{0.1, dec(t, "0.1"), 1}, // the double is 0.1000000000000000055…
		{int64(math.MaxInt64), float64(math.MaxInt64), -1},
		{int64(1 << 53), float64(1<<53) + 1, 0}, // 2^53+1 is not representable: rounds to 2^53
		{int64(1<<53 + 1), float64(1 << 53), 1},
		{math.NaN(), math.Inf(-1), -1},
		{math.NaN(), math.NaN(), 0},
		{math.NaN(), dec(t, "NaN"), 0},
		{dec(t, "NaN"), int32(-5), -1},
		{math.Inf(1), int64(math.MaxInt64), 1},
		{math.Copysign(0, -1), int32(0), 0},
		{int32(-3), -2.5, -1},
		{int32(2), 2.5, -1},
		{dec(t, "-Infinity"), math.Inf(-1), 0},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Compare(c.a, c.b), "%v vs %v", c.a, c.b)
		assert.Equal(t, -c.want, Compare(c.b, c.a), "%v vs %v", c.b, c.a)
	}
}

func TestCompareComposite(t *testing.T) {
	d := func(kv ...any) bson.D {
		var out bson.D
		for i := 0; i < len(kv); i += 2 {
			out = append(out, bson.E{Key: kv[i].(string), Value: kv[i+1]})
		}
		return out
	}
	cases := []struct {
		a, b any
		want int
	}{
		{d("a", int32(1)), d("a", 1.0), 0},
		{d("a", int32(1)), d("b", int32(1)), -1},
		{d("a", int32(1)), d("a", "x"), -1}, // type before key and value
		{d("b", int32(1)), d("a", "x"), -1},
		{d("a", int32(1)), d("a", int32(1), "b", int32(0)), -1},
		{d("a", int32(1), "b", int32(2)), d("b", int32(2), "a", int32(1)), -1},
		{bson.A{}, bson.A{nil}, -1},
		{bson.A{int32(1), int32(2)}, bson.A{int32(1), int32(3)}, -1},
		{bson.A{int32(2)}, bson.A{int32(1), int32(3)}, 1},
		{bson.Binary{Subtype: 9, Data: []byte{1}}, bson.Binary{Subtype: 0, Data: []byte{1, 2}}, -1},
		{bson.Binary{Subtype: 0, Data: []byte{2}}, bson.Binary{Subtype: 5, Data: []byte{1}}, -1},
		{"abc", bson.Symbol("abd"), -1},
		{"B", "a", -1},
		{false, true, -1},
		{bson.DateTime(-1), bson.DateTime(0), -1},
		{bson.Timestamp{T: 1, I: 9}, bson.Timestamp{T: 2, I: 0}, -1},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Compare(c.a, c.b), "%v vs %v", c.a, c.b)
		assert.Equal(t, -c.want, Compare(c.b, c.a), "%v vs %v", c.b, c.a)
	}
}

func TestArithmeticTypes(t *testing.T) {
	cases := []struct {
		name string
		got  func() (any, error)
		want any
	}{
		{"int32+int32", func() (any, error) { return Add(int32(1), int32(2)) }, int32(3)},
		{"int32 overflow", func() (any, error) { return Add(int32(math.MaxInt32), int32(1)) }, int64(math.MaxInt32) + 1},
		{"int32+int64", func() (any, error) { return Add(int32(1), int64(2)) }, int64(3)},
		{"int64 overflow", func() (any, error) { return Add(int64(math.MaxInt64), int64(1)) }, float64(math.MaxInt64) + 1},
		{"int+double", func() (any, error) { return Add(int32(1), 0.5) }, 1.5},
		{"int+decimal", func() (any, error) { return Add(int32(1), dec(t, "0.5")) }, dec(t, "1.5")},
		{"double+decimal", func() (any, error) { return Add(0.5, dec(t, "0.25")) }, dec(t, "0.75")},
		{"sub", func() (any, error) { return Subtract(int32(math.MinInt32), int32(1)) }, int64(math.MinInt32) - 1},
		{"mul", func() (any, error) { return Multiply(int32(70000), int32(70000)) }, int64(4_900_000_000)},
		{"mul int64 overflow", func() (any, error) { return Multiply(int64(math.MaxInt64), int32(2)) }, float64(math.MaxInt64) * 2},
		{"div ints", func() (any, error) { return Divide(int32(7), int32(2)) }, 3.5},
		{"div decimal", func() (any, error) { return Divide(dec(t, "1"), int32(4)) }, dec(t, "0.25")},
		{"mod", func() (any, error) { return Mod(int32(-7), int32(3)) }, int32(-1)},
		{"mod double", func() (any, error) { return Mod(7.5, int32(2)) }, 1.5},
	}
	for _, c := range cases {
		got, err := c.got()
		require.NoError(t, err, c.name)
		assert.Equal(t, c.want, got, c.name)
		assert.Equal(t, TypeOf(c.want), TypeOf(got), c.name)
	}
	_, err := Add("a", int32(1))
	assert.ErrorIs(t, err, ErrNotNumber)
}

func TestToInt64(t *testing.T) {
	n, ok := ToInt64(dec(t, "42.000"))
	assert.True(t, ok)
	assert.Equal(t, int64(42), n)
	_, ok = ToInt64(dec(t, "4.2"))
	assert.False(t, ok)
	_, ok = ToInt64(1e19)
	assert.False(t, ok)
	n, ok = ToInt64(-3.0)
	assert.True(t, ok)
	assert.Equal(t, int64(-3), n)
}

func TestTruthy(t *testing.T) {
	for _, v := range []any{false, nil, Missing, bson.Undefined{}, int32(0), int64(0), 0.0, dec(t, "0")} {
		assert.False(t, Truthy(v), "%v", v)
	}
	for _, v := range []any{true, "", bson.A{}, bson.D{}, int32(-1), 0.1, dec(t, "1E-10")} {
		assert.True(t, Truthy(v), "%v", v)
	}
}

func TestCodecRoundTripMatchesDriver(t *testing.T) {
	doc := bson.D{}
	for i, v := range allTypes(t) {
		doc = append(doc, bson.E{Key: string(rune('a' + i)), Value: v})
	}
	doc = append(doc,
		bson.E{Key: "double", Value: 3.25},
		bson.E{Key: "long", Value: int64(-1 << 40)},
		bson.E{Key: "dec", Value: dec(t, "-12.5E-3")},
		bson.E{Key: "oldbin", Value: bson.Binary{Subtype: 2, Data: []byte("xyz")}},
		bson.E{Key: "emptybin", Value: bson.Binary{Subtype: 0, Data: []byte{}}},
		bson.E{Key: "nested", Value: bson.D{{Key: "arr", Value: bson.A{bson.D{{Key: "x", Value: bson.A{}}}}}}},
		bson.E{Key: "", Value: "empty key"},
	)
	driverBytes, err := bson.Marshal(doc)
	require.NoError(t, err)

	decoded, err := Decode(driverBytes)
	require.NoError(t, err)
	ours, err := Encode(decoded)
	require.NoError(t, err)
	assert.Equal(t, []byte(driverBytes), ours, "re-encoding must be byte-identical")
	assert.Equal(t, 0, Compare(doc, decoded))
	for _, e := range decoded {
		want, _ := Lookup(doc, e.Key)
		assert.Equal(t, TypeOf(want), TypeOf(e.Value), e.Key)
	}
}

func TestDecodeRejectsMalformed(t *testing.T) {
	good, err := Encode(bson.D{{Key: "s", Value: "hello"}, {Key: "n", Value: int32(1)}})
	require.NoError(t, err)
	for i := 0; i < len(good); i++ {
		_, err := Decode(good[:i])
		assert.Error(t, err, "prefix of %d bytes", i)
	}
	bad := append([]byte{}, good...)
	bad[4] = 0x42 // unknown element type
	_, err = Decode(bad)
	assert.ErrorIs(t, err, ErrMalformed)

	deep := bson.D{{Key: "x", Value: int32(1)}}
	for range MaxDepth + 5 {
		deep = bson.D{{Key: "x", Value: deep}}
	}
	b, err := Encode(deep)
	require.NoError(t, err)
	_, err = Decode(b)
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestEncodeRejectsOutsideModel(t *testing.T) {
	_, err := Encode(bson.D{{Key: "a", Value: struct{}{}}})
	assert.Error(t, err)
	_, err = Encode(bson.D{{Key: "a", Value: Missing}})
	assert.Error(t, err)
	_, err = Encode(bson.D{{Key: "a\x00b", Value: int32(1)}})
	assert.Error(t, err)
}

func TestDeepCopyIsIndependent(t *testing.T) {
	orig := bson.D{{Key: "a", Value: bson.A{bson.D{{Key: "b", Value: int32(1)}}}}, {Key: "bin", Value: bson.Binary{Data: []byte{1}}}}
	cp := CopyDoc(orig)
	cp[0].Value.(bson.A)[0].(bson.D)[0].Value = int32(2)
	cp[1].Value.(bson.Binary).Data[0] = 9
	assert.Equal(t, int32(1), orig[0].Value.(bson.A)[0].(bson.D)[0].Value)
	assert.Equal(t, byte(1), orig[1].Value.(bson.Binary).Data[0])
}

func FuzzDecode(f *testing.F) {
	seed, _ := bson.Marshal(bson.D{{Key: "a", Value: bson.A{int32(1), "x", bson.D{{Key: "b", Value: 2.5}}}}})
	f.Add([]byte(seed))
	f.Add([]byte{5, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Encode(doc)
		if err != nil {
			t.Fatalf("decoded document does not re-encode: %v", err)
		}
		doc2, err := Decode(again)
		if err != nil || Compare(doc, doc2) != 0 {
			t.Fatalf("round trip changed the document: %v", err)
		}
	})
}

func TestBrackets(t *testing.T) {
	for _, v := range allTypes(t) {
		lo, next := BracketMin(v), NextBracketMin(v)
		assert.True(t, SameBracket(lo, v), "%s", TypeName(v))
		assert.LessOrEqual(t, Compare(lo, v), 0, "%s", TypeName(v))
		if _, isMax := v.(bson.MaxKey); !isMax {
			assert.Equal(t, -1, Compare(v, next), "%s", TypeName(v))
			assert.False(t, SameBracket(v, next), "%s", TypeName(v))
		}
	}
	assert.Equal(t, -1, Compare(BracketMin(int32(5)), math.Inf(-1)))
}
