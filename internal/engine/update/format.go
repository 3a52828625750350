package update

import (
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// formatValue renders a value roughly as mongod renders BSON in error messages
// ({ a: 1, b: "x" }, [ 1, 2 ]). Only messages use it.
func formatValue(v any) string {
	var b strings.Builder
	writeValue(&b, v)
	return b.String()
}

// formatElem renders "name: value", as mongod renders a BSON element.
func formatElem(name string, v any) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteString(": ")
	writeValue(&b, v)
	return b.String()
}

func writeValue(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil, bson.Null:
		b.WriteString("null")
	case string:
		b.WriteString(strconv.Quote(x))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEIN") {
			s += ".0"
		}
		b.WriteString(s)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case bson.D:
		if len(x) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{ ")
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(e.Key)
			b.WriteString(": ")
			writeValue(b, e.Value)
		}
		b.WriteString(" }")
	case bson.A:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[ ")
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, e)
		}
		b.WriteString(" ]")
	case bson.ObjectID:
		b.WriteString("ObjectId('")
		b.WriteString(x.Hex())
		b.WriteString("')")
	case bson.DateTime:
		b.WriteString("new Date(")
		b.WriteString(strconv.FormatInt(int64(x), 10))
		b.WriteString(")")
	case bson.Decimal128:
		b.WriteString("NumberDecimal(\"")
		b.WriteString(x.String())
		b.WriteString("\")")
	case bson.Timestamp:
		b.WriteString("Timestamp(")
		b.WriteString(strconv.FormatUint(uint64(x.T), 10))
		b.WriteString(", ")
		b.WriteString(strconv.FormatUint(uint64(x.I), 10))
		b.WriteString(")")
	case bson.Regex:
		b.WriteString("/")
		b.WriteString(x.Pattern)
		b.WriteString("/")
		b.WriteString(x.Options)
	case bson.MinKey:
		b.WriteString("MinKey")
	case bson.MaxKey:
		b.WriteString("MaxKey")
	case bson.Undefined:
		b.WriteString("undefined")
	default:
		if s, ok := v.(interface{ String() string }); ok {
			b.WriteString(s.String())
			return
		}
		b.WriteString("?")
	}
}
