package update

import (
	"math"
	"slices"
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// resultKind is what a modifier did to its field.
type resultKind uint8

const (
	unchanged resultKind = iota
	replaced             // the field now holds the returned value
	removed              // the field is to be removed (an array element becomes null)
)

// missingMode is what a modifier does where its path does not exist.
type missingMode uint8

const (
	missCreate missingMode = iota // create the field, and the documents leading to it
	missViable                    // nothing, but the path must be one that could be created
	missIgnore                    // nothing at all
)

// modifier is one operator applied at one path.
type modifier interface {
	// update applies the operator to the existing value old.
	update(a *applier, old any) (any, resultKind, error)
	// create returns the value of the field when it does not exist (missCreate only).
	create(a *applier) (any, error)
	missing() missingMode
}

// --- $set, $setOnInsert ---

type setMod struct {
	val      any
	onInsert bool // $setOnInsert: only when the update inserts a document
}

func parseSet(_ string, arg any) (modifier, error) { return &setMod{val: arg}, nil }
func parseSetOnInsert(_ string, arg any) (modifier, error) {
	return &setMod{val: arg, onInsert: true}, nil
}

func (m *setMod) update(_ *applier, old any) (any, resultKind, error) {
	// Only a value with the same type and bytes is a no-op: setting 1.0 over 1 changes it.
	if binaryEqual(old, m.val) {
		return nil, unchanged, nil
	}
	return m.val, replaced, nil
}

func (m *setMod) create(*applier) (any, error) { return m.val, nil }
func (m *setMod) missing() missingMode         { return missCreate }

// --- $unset ---

type unsetMod struct{}

func parseUnset(string, any) (modifier, error) { return unsetMod{}, nil }

func (unsetMod) update(*applier, any) (any, resultKind, error) { return nil, removed, nil }
func (unsetMod) create(*applier) (any, error)                  { return nil, nil }
func (unsetMod) missing() missingMode                          { return missIgnore }

// --- $inc, $mul ---

type arithMod struct {
	val any
	mul bool
}

func parseInc(path string, arg any) (modifier, error) { return parseArith(path, arg, false) }
func parseMul(path string, arg any) (modifier, error) { return parseArith(path, arg, true) }

func parseArith(path string, arg any, mul bool) (modifier, error) {
	if !value.IsNumber(arg) {
		verb := "increment"
		if mul {
			verb = "multiply"
		}
		return nil, mongoerr.Newf(mongoerr.TypeMismatch, "Cannot %s with non-numeric argument: {%s}", verb, value.FormatElem(path, arg))
	}
	return &arithMod{val: arg, mul: mul}, nil
}

func (m *arithMod) name() string {
	if m.mul {
		return opMul
	}
	return opInc
}

func (m *arithMod) update(a *applier, old any) (any, resultKind, error) {
	if !value.IsNumber(old) {
		return nil, unchanged, mongoerr.Newf(mongoerr.TypeMismatch,
			"Cannot apply %s to a value of non-numeric type. {%s} has the field '%s' of non-numeric type %s",
			m.name(), a.idString(), a.field(), value.TypeName(old))
	}
	res, ok := safeArith(old, m.val, m.mul)
	if !ok {
		return nil, unchanged, mongoerr.Newf(mongoerr.BadValue,
			"Failed to apply %s operations to current value (%s) for document {%s}", m.name(), debugNumber(old), a.idString())
	}
	if identicalNumbers(res, old) {
		return nil, unchanged, nil
	}
	return res, replaced, nil
}

func (m *arithMod) create(*applier) (any, error) {
	if m.mul {
		// A missing field is multiplied as a zero, which keeps the operand's type.
		res, _ := safeArith(m.val, int32(0), true)
		return res, nil
	}
	return m.val, nil
}

func (m *arithMod) missing() missingMode { return missCreate }

func debugNumber(v any) string {
	switch v.(type) {
	case int32:
		return "(NumberInt)" + value.Format(v)
	case int64:
		return "(NumberLong)" + value.Format(v)
	case float64:
		return "(NumberDouble)" + value.Format(v)
	}
	return "(NumberDecimal)" + value.Format(v)
}

// --- $min, $max ---

type compareMod struct {
	val any
	max bool
}

func parseMin(_ string, arg any) (modifier, error) { return &compareMod{val: arg}, nil }
func parseMax(_ string, arg any) (modifier, error) { return &compareMod{val: arg, max: true}, nil }

func (m *compareMod) update(_ *applier, old any) (any, resultKind, error) {
	c := value.Compare(old, m.val)
	if c == 0 || (m.max && c > 0) || (!m.max && c < 0) {
		return nil, unchanged, nil
	}
	return m.val, replaced, nil
}

func (m *compareMod) create(*applier) (any, error) { return m.val, nil }
func (m *compareMod) missing() missingMode         { return missCreate }

// --- $currentDate ---

type currentDateMod struct{ timestamp bool }

func parseCurrentDate(_ string, arg any) (modifier, error) {
	switch x := arg.(type) {
	case bool:
		// Any boolean, even false, means a date.
		return &currentDateMod{}, nil
	case bson.D:
		found, ts := false, false
		for _, e := range x {
			if e.Key != "$type" {
				return nil, mongoerr.Newf(mongoerr.BadValue, "Unrecognized $currentDate option: %s", e.Key)
			}
			switch e.Value {
			case "date":
				found, ts = true, false
			case "timestamp":
				found, ts = true, true
			}
		}
		if !found {
			return nil, mongoerr.Newf(mongoerr.BadValue,
				"The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}")
		}
		return &currentDateMod{timestamp: ts}, nil
	}
	return nil, mongoerr.Newf(mongoerr.BadValue,
		"%s is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).",
		value.TypeName(arg))
}

func (m *currentDateMod) now(a *applier) any {
	if m.timestamp {
		return a.ctx.Timestamp
	}
	return a.ctx.Now
}

// update always writes: mongod does not compare the old value with the new instant.
func (m *currentDateMod) update(a *applier, _ any) (any, resultKind, error) {
	return m.now(a), replaced, nil
}

func (m *currentDateMod) create(a *applier) (any, error) { return m.now(a), nil }
func (m *currentDateMod) missing() missingMode           { return missCreate }

// --- $push ---

type pushMod struct {
	values   bson.A
	position int64 // where the values go: index from the front, or from the back when negative
	slice    int64
	hasSlice bool
	sort     *sortSpec
}

func parsePush(_ string, arg any) (modifier, error) {
	m := &pushMod{position: math.MaxInt64}
	d, isDoc := arg.(bson.D)
	hasEach := false
	if isDoc {
		_, hasEach = value.Lookup(d, "$each")
	}
	if !hasEach {
		m.values = bson.A{arg}
		return m, nil
	}
	seen := map[string]bool{}
	for _, e := range d {
		switch e.Key {
		case "$each", "$slice", "$sort", "$position":
		default:
			return nil, mongoerr.Newf(mongoerr.BadValue, "Unrecognized clause in $push: %s", e.Key)
		}
		if seen[e.Key] {
			return nil, mongoerr.Newf(mongoerr.BadValue, "Only one %s is supported.", e.Key)
		}
		seen[e.Key] = true
	}
	each, ok := value.Get(d, "$each").(bson.A)
	if !ok {
		return nil, mongoerr.Newf(mongoerr.BadValue,
			"The argument to $each in $push must be an array but it was of type: %s", value.TypeName(value.Get(d, "$each")))
	}
	m.values = each
	if v, ok := value.Lookup(d, "$slice"); ok {
		n, ok := integerArg(v)
		if !ok {
			return nil, mongoerr.Newf(mongoerr.BadValue,
				"The value for $slice must be an integer value but was given type: %s", value.TypeName(v))
		}
		m.slice, m.hasSlice = n, true
	}
	if v, ok := value.Lookup(d, "$sort"); ok {
		s, err := parseSort(v)
		if err != nil {
			return nil, err
		}
		m.sort = s
	}
	if v, ok := value.Lookup(d, "$position"); ok {
		n, ok := integerArg(v)
		if !ok {
			return nil, mongoerr.Newf(mongoerr.BadValue,
				"The value for $position must be an integer value, not of type: %s", value.TypeName(v))
		}
		m.position = n
	}
	return m, nil
}

func (m *pushMod) update(a *applier, old any) (any, resultKind, error) {
	arr, ok := old.(bson.A)
	if !ok {
		return nil, unchanged, mongoerr.Newf(mongoerr.BadValue,
			"The field '%s' must be an array but is of type %s in document {%s}", a.pathString(), value.TypeName(old), a.idString())
	}
	return m.push(arr)
}

func (m *pushMod) create(*applier) (any, error) {
	out, kind, _ := m.push(nil)
	if kind == unchanged {
		return bson.A{}, nil
	}
	return out, nil
}

func (m *pushMod) missing() missingMode { return missCreate }

// push returns arr with the values inserted, sorted and sliced as the clauses say. A $sort
// counts as a change even when the order is already right, as in mongod.
func (m *pushMod) push(arr bson.A) (any, resultKind, error) {
	n := int64(len(arr))
	trim := m.hasSlice && n+int64(len(m.values)) > abs64(m.slice)
	if len(m.values) == 0 && m.sort == nil && !trim {
		return nil, unchanged, nil
	}
	out := make(bson.A, 0, len(arr)+len(m.values))
	at := n // insertion index
	switch p := m.position; {
	case n == 0 || p >= n:
	case p >= 0:
		at = p
	case p > -n:
		at = n + p // a negative position counts from the end
	default:
		at = 0
	}
	out = append(out, arr[:at]...)
	out = append(out, m.values...)
	out = append(out, arr[at:]...)
	if m.sort != nil {
		m.sort.sort(out)
	}
	if m.hasSlice && int64(len(out)) > abs64(m.slice) {
		if m.slice >= 0 {
			out = out[:m.slice]
		} else {
			out = out[int64(len(out))+m.slice:]
		}
	}
	return out, replaced, nil
}

func abs64(n int64) int64 {
	if n < 0 {
		if n == math.MinInt64 {
			return math.MaxInt64
		}
		return -n
	}
	return n
}

// sortSpec is a $push $sort: the whole values (whole) or fields of embedded documents.
type sortSpec struct {
	whole  bool
	dir    int
	fields []sortField
}

type sortField struct {
	path []string
	dir  int
}

func parseSort(v any) (*sortSpec, error) {
	dirOf := func(v any) (int, bool) {
		f, ok := value.ToFloat64(v)
		if !ok || !value.IsNumber(v) {
			return 0, false
		}
		switch f {
		case 1:
			return 1, true
		case -1:
			return -1, true
		}
		return 0, false
	}
	if d, ok := v.(bson.D); ok {
		if len(d) == 0 {
			return nil, mongoerr.Newf(mongoerr.BadValue, "The $sort pattern is empty when it should be a set of fields.")
		}
		s := &sortSpec{}
		for _, e := range d {
			dir, ok := dirOf(e.Value)
			if !ok {
				return nil, mongoerr.Newf(mongoerr.BadValue, "The $sort element value must be either 1 or -1")
			}
			if e.Key == "" {
				return nil, mongoerr.Newf(mongoerr.BadValue, "The $sort field cannot be empty")
			}
			parts := strings.Split(e.Key, ".")
			if slices.Contains(parts, "") {
				return nil, mongoerr.Newf(mongoerr.BadValue, "The $sort field is a dotted field but has an empty part: %s", e.Key)
			}
			s.fields = append(s.fields, sortField{parts, dir})
		}
		return s, nil
	}
	if value.IsNumber(v) {
		dir, ok := dirOf(v)
		if !ok {
			return nil, mongoerr.Newf(mongoerr.BadValue, "The $sort element value must be either 1 or -1")
		}
		return &sortSpec{whole: true, dir: dir}, nil
	}
	return nil, mongoerr.Newf(mongoerr.BadValue,
		"The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields")
}

func (s *sortSpec) sort(arr bson.A) {
	slices.SortStableFunc(arr, s.compare)
}

func (s *sortSpec) compare(x, y any) int {
	if s.whole {
		return value.Compare(x, y) * s.dir
	}
	for _, f := range s.fields {
		if c := value.Compare(sortKey(x, f.path), sortKey(y, f.path)) * f.dir; c != 0 {
			return c
		}
	}
	return 0
}

// sortKey extracts a sort field from an array element: missing fields, and every field of
// a value that is not a document, sort as null.
func sortKey(v any, path []string) any {
	if _, ok := v.(bson.D); !ok {
		return nil
	}
	for _, p := range path {
		switch x := v.(type) {
		case bson.D:
			var found bool
			if v, found = value.Lookup(x, p); !found {
				return nil
			}
		case bson.A:
			i, ok := arrayIndex(p)
			if !ok || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// --- $addToSet ---

type addToSetMod struct{ values bson.A }

func parseAddToSet(_ string, arg any) (modifier, error) {
	values := bson.A{arg}
	if d, ok := arg.(bson.D); ok && len(d) > 0 && d[0].Key == "$each" {
		each, ok := d[0].Value.(bson.A)
		if !ok {
			return nil, mongoerr.Newf(mongoerr.TypeMismatch,
				"The argument to $each in $addToSet must be an array but it was of type %s", value.TypeName(d[0].Value))
		}
		if len(d) > 1 {
			return nil, mongoerr.Newf(mongoerr.BadValue, "Found unexpected fields after $each in $addToSet: %s", value.Format(d))
		}
		values = each
	}
	// Values repeated in the argument are added once, in first-seen order.
	dedup := make(bson.A, 0, len(values))
	for _, v := range values {
		if !containsValue(dedup, v) {
			dedup = append(dedup, v)
		}
	}
	return &addToSetMod{values: dedup}, nil
}

func containsValue(arr bson.A, v any) bool {
	for _, e := range arr {
		if value.Compare(e, v) == 0 {
			return true
		}
	}
	return false
}

func (m *addToSetMod) update(a *applier, old any) (any, resultKind, error) {
	arr, ok := old.(bson.A)
	if !ok {
		return nil, unchanged, mongoerr.Newf(mongoerr.BadValue,
			"Cannot apply $addToSet to non-array field. Field named '%s' has non-array type %s", a.field(), value.TypeName(old))
	}
	var out bson.A
	for _, v := range m.values {
		if !containsValue(arr, v) {
			if out == nil {
				out = make(bson.A, len(arr), len(arr)+len(m.values))
				copy(out, arr)
			}
			out = append(out, v)
		}
	}
	if out == nil {
		return nil, unchanged, nil
	}
	return out, replaced, nil
}

func (m *addToSetMod) create(*applier) (any, error) { return slices.Clone(m.values), nil }
func (m *addToSetMod) missing() missingMode         { return missCreate }

// --- $pop ---

type popMod struct{ front bool }

func parsePop(path string, arg any) (modifier, error) {
	if !value.IsNumber(arg) {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "Expected a number in: %s", value.FormatElem(path, arg))
	}
	n, ok := value.ToInt64(arg)
	if !ok {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "Expected an integer: %s", value.FormatElem(path, arg))
	}
	if n != 1 && n != -1 {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "$pop expects 1 or -1, found: %d", n)
	}
	return &popMod{front: n == -1}, nil
}

func (m *popMod) update(a *applier, old any) (any, resultKind, error) {
	arr, ok := old.(bson.A)
	if !ok {
		return nil, unchanged, mongoerr.Newf(mongoerr.TypeMismatch,
			"Path '%s' contains an element of non-array type '%s'", a.pathString(), value.TypeName(old))
	}
	if len(arr) == 0 {
		return nil, unchanged, nil
	}
	if m.front {
		return slices.Clone(arr[1:]), replaced, nil
	}
	return slices.Clone(arr[:len(arr)-1]), replaced, nil
}

func (m *popMod) create(*applier) (any, error) { return nil, nil }
func (m *popMod) missing() missingMode         { return missViable }

// --- $pull, $pullAll ---

type pullMod struct {
	cond   *elementMatcher
	values bson.A // $pullAll
	all    bool
}

func parsePull(_ string, arg any) (modifier, error) {
	cond, err := compilePullCondition(arg)
	if err != nil {
		return nil, err
	}
	return &pullMod{cond: cond}, nil
}

func parsePullAll(_ string, arg any) (modifier, error) {
	values, ok := arg.(bson.A)
	if !ok {
		return nil, mongoerr.Newf(mongoerr.BadValue, "$pullAll requires an array argument but was given a %s", value.TypeName(arg))
	}
	return &pullMod{values: values, all: true}, nil
}

func (m *pullMod) matches(a *applier, v any) (bool, error) {
	if m.all {
		return containsValue(m.values, v), nil
	}
	return m.cond.MatchValue(v, a.ctx.Env)
}

func (m *pullMod) update(a *applier, old any) (any, resultKind, error) {
	arr, ok := old.(bson.A)
	if !ok {
		return nil, unchanged, mongoerr.Newf(mongoerr.BadValue, "Cannot apply $pull to a non-array value")
	}
	var out bson.A
	for i, e := range arr {
		hit, err := m.matches(a, e)
		if err != nil {
			return nil, unchanged, err
		}
		switch {
		case hit && out == nil:
			out = make(bson.A, i, len(arr))
			copy(out, arr[:i])
		case !hit && out != nil:
			out = append(out, e)
		}
	}
	if out == nil {
		return nil, unchanged, nil
	}
	return out, replaced, nil
}

func (m *pullMod) create(*applier) (any, error) { return nil, nil }
func (m *pullMod) missing() missingMode         { return missViable }

// --- $bit ---

type bitMod struct {
	ops      []byte
	operands []any
}

func parseBit(_ string, arg any) (modifier, error) {
	d, ok := arg.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(mongoerr.BadValue,
			"The $bit modifier is not compatible with a %s. You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}",
			value.TypeName(arg))
	}
	if len(d) == 0 {
		return nil, mongoerr.Newf(mongoerr.BadValue,
			"You must pass in at least one bitwise operation. The format is: {$bit: {field: {and/or/xor: #}}")
	}
	m := &bitMod{}
	for _, e := range d {
		var op byte
		switch e.Key {
		case "and":
			op = '&'
		case "or":
			op = '|'
		case "xor":
			op = '^'
		default:
			return nil, mongoerr.Newf(mongoerr.BadValue,
				"The $bit modifier only supports 'and', 'or', and 'xor', not '%s' which is an unknown operator: {%s}",
				e.Key, value.FormatElem(e.Key, e.Value))
		}
		switch e.Value.(type) {
		case int32, int64:
		default:
			return nil, mongoerr.Newf(mongoerr.BadValue,
				"The $bit modifier field must be an Integer(32/64 bit); a '%s' is not supported here: {%s}",
				value.TypeName(e.Value), value.FormatElem(e.Key, e.Value))
		}
		m.ops = append(m.ops, op)
		m.operands = append(m.operands, e.Value)
	}
	return m, nil
}

func (m *bitMod) apply(v any) any {
	for i, op := range m.ops {
		v = bitOp(op, v, m.operands[i])
	}
	return v
}

func (m *bitMod) update(a *applier, old any) (any, resultKind, error) {
	switch old.(type) {
	case int32, int64:
	default:
		return nil, unchanged, mongoerr.Newf(mongoerr.BadValue,
			"Cannot apply $bit to a value of non-integral type.%s has the field %s of non-integer type %s",
			a.idString(), a.field(), value.TypeName(old))
	}
	res := m.apply(old)
	if identicalNumbers(res, old) {
		return nil, unchanged, nil
	}
	return res, replaced, nil
}

func (m *bitMod) create(*applier) (any, error) { return m.apply(int32(0)), nil }
func (m *bitMod) missing() missingMode         { return missCreate }

// --- $rename ---

// renameDest is the leaf of {$rename: {from: to}} at the destination path. It reads the
// source from the document being updated (no other operator may touch that path) and sets
// it at its own path; the renameSource placeholder at the source path removes it.
type renameDest struct {
	from      string
	fromParts []string
	to        string
}

// renameSource sits at the source path of a $rename: it claims the path (so no other
// operator can modify it) and removes the source field.
type renameSource struct {
	dest *renameDest
}

func parseRename(from string, fromParts []string, to string, toParts []string, f bson.E) (*renameDest, error) {
	if strings.IndexByte(to, 0) >= 0 {
		return nil, mongoerr.Newf(mongoerr.BadValue, "The 'to' field for $rename cannot contain an embedded null byte")
	}
	if from == to {
		return nil, mongoerr.Newf(mongoerr.BadValue, "The source and target field for $rename must differ: %s", value.FormatElem(f.Key, f.Value))
	}
	if isPrefix(fromParts, toParts) || isPrefix(toParts, fromParts) {
		return nil, mongoerr.Newf(mongoerr.BadValue,
			"The source and target field for $rename must not be on the same path: %s", value.FormatElem(f.Key, f.Value))
	}
	if dynamic(fromParts) {
		return nil, mongoerr.Newf(mongoerr.BadValue, "The source field for $rename may not be dynamic: %s", from)
	}
	if dynamic(toParts) {
		return nil, mongoerr.Newf(mongoerr.BadValue, "The destination field for $rename may not be dynamic: %s", to)
	}
	return &renameDest{from: from, fromParts: fromParts, to: to}, nil
}

func isPrefix(a, b []string) bool {
	return len(a) < len(b) && slices.Equal(a, b[:len(a)])
}

func dynamic(parts []string) bool {
	for _, p := range parts {
		if p == "$" || isArrayFilterStep(p) {
			return true
		}
	}
	return false
}

// The rename leaves are applied by the applier itself (applyRename, applyRenameSource);
// these methods only satisfy the interface.
func (*renameDest) update(*applier, any) (any, resultKind, error)   { return nil, unchanged, nil }
func (*renameDest) create(*applier) (any, error)                    { return nil, nil }
func (*renameDest) missing() missingMode                            { return missIgnore }
func (*renameSource) update(*applier, any) (any, resultKind, error) { return nil, unchanged, nil }
func (*renameSource) create(*applier) (any, error)                  { return nil, nil }
func (*renameSource) missing() missingMode                          { return missIgnore }
