package match

import (
	"math"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// level says which document a filter applies to: the stored document itself, or an element
// of an array inside it ($elemMatch), where $expr, $where, $text and $sampleRate are refused.
type level int

const (
	levelTop level = iota
	levelSub
)

type parser struct {
	vars []string
}

func newParser(opts *Options) *parser {
	p := &parser{}
	if opts != nil {
		p.vars = opts.Vars
	}
	return p
}

func badValue(format string, args ...any) error {
	return mongoerr.Newf(mongoerr.BadValue, format, args...)
}

func notImplemented(op string) error {
	return mongoerr.Newf(mongoerr.NotImplemented, "%s is not supported by mongotest", op)
}

// pathlessOperators are mongod's top-level operators (those that take no field path).
var pathlessOperators = map[string]bool{
	"$_internalBucketGeoWithin": true, "$_internalSchemaAllowedProperties": true,
	"$_internalSchemaCond": true, "$_internalSchemaMaxProperties": true,
	"$_internalSchemaMinProperties": true, "$_internalSchemaRootDocEq": true,
	"$_internalSchemaXor": true, "$alwaysFalse": true, "$alwaysTrue": true, "$and": true,
	"$comment": true, "$db": true, "$expr": true, "$id": true, "$jsonSchema": true, "$nor": true,
	"$or": true, "$ref": true, "$sampleRate": true, "$text": true, "$where": true,
}

// pathOperators are mongod's field-level operators ($not aside, which is handled apart).
var pathOperators = map[string]bool{
	"$_internalExprEq": true, "$_internalExprGt": true, "$_internalExprGte": true,
	"$_internalExprLt": true, "$_internalExprLte": true,
	"$_internalSchemaAllElemMatchFromIndex": true, "$_internalSchemaBinDataEncryptedType": true,
	"$_internalSchemaBinDataSubType": true, "$_internalSchemaEq": true,
	"$_internalSchemaFmod": true, "$_internalSchemaMatchArrayIndex": true,
	"$_internalSchemaMaxItems": true, "$_internalSchemaMaxLength": true,
	"$_internalSchemaMinItems": true, "$_internalSchemaMinLength": true,
	"$_internalSchemaObjectMatch": true, "$_internalSchemaType": true,
	"$_internalSchemaUniqueItems": true,
	"$all":                        true, "$bitsAllClear": true, "$bitsAllSet": true, "$bitsAnyClear": true,
	"$bitsAnySet": true, "$elemMatch": true, "$eq": true, "$exists": true,
	"$geoIntersects": true, "$geoNear": true, "$geoWithin": true, "$gt": true, "$gte": true,
	"$in": true, "$lt": true, "$lte": true, "$mod": true, "$ne": true, "$near": true,
	"$nearSphere": true, "$nin": true, "$options": true, "$regex": true, "$size": true,
	"$type": true, "$within": true,
}

func isPathOperator(name string) bool { return pathOperators[name] }

// isDBRef reports whether d holds $ref and $id (or, when incomplete is allowed, any of $ref,
// $id and $db): such documents are values to compare, not operator documents.
func isDBRef(d bson.D, incomplete bool) bool {
	var ref, id, db bool
	for _, e := range d {
		if ref && id {
			break
		}
		switch e.Key {
		case "$ref":
			ref = true
		case "$id":
			id = true
		case "$db":
			db = true
		}
	}
	if incomplete {
		return ref || id || db
	}
	return ref && id
}

// isOperatorDoc reports whether v is a document of operators ({$gt: 5}): non-empty, with a
// first field starting with "$", and not a DBRef.
func isOperatorDoc(v any, incompleteDBRef bool) (bson.D, bool) {
	d, ok := v.(bson.D)
	if !ok || len(d) == 0 || !strings.HasPrefix(d[0].Key, "$") || isDBRef(d, incompleteDBRef) {
		return nil, false
	}
	return d, true
}

// parseFilter compiles a query document.
func (p *parser) parseFilter(filter bson.D, lvl level) (node, error) {
	nodes := make([]node, 0, len(filter))
	for _, e := range filter {
		if strings.HasPrefix(e.Key, "$") {
			n, err := p.parseTopOperator(e, lvl)
			if err != nil {
				return nil, err
			}
			if n != nil {
				nodes = append(nodes, n)
			}
			continue
		}
		fp := newPath(e.Key)
		if sub, ok := isOperatorDoc(e.Value, false); ok {
			preds, err := p.parseSub(e.Key, sub, lvl)
			if err != nil {
				return nil, err
			}
			for _, pr := range preds {
				nodes = append(nodes, &fieldNode{path: fp, pred: pr})
			}
			continue
		}
		pr, err := equalityOrRegex(e.Value)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, &fieldNode{path: fp, pred: pr})
	}
	switch len(nodes) {
	case 0:
		return constNode(true), nil
	case 1:
		return nodes[0], nil
	}
	return andNode(nodes), nil
}

// equalityOrRegex compiles {field: value}: a regex value is a pattern match, anything else
// equality.
func equalityOrRegex(v any) (pred, error) {
	if re, ok := v.(bson.Regex); ok {
		l, err := newRegexLeaf(re.Pattern, re.Options)
		if err != nil {
			return nil, err
		}
		return &leafPred{l: l}, nil
	}
	if _, ok := v.(bson.Undefined); ok {
		return nil, badValue("cannot compare to undefined")
	}
	return &leafPred{l: newEqLeaf(v)}, nil
}

// parseTopOperator compiles a field of a query document whose name starts with "$".
func (p *parser) parseTopOperator(e bson.E, lvl level) (node, error) {
	switch e.Key {
	case "$and", "$or", "$nor":
		return p.parseTree(e.Key, e.Value, lvl)
	case "$comment":
		return nil, nil
	case "$expr":
		if lvl == levelSub {
			return nil, badValue("$expr can only be applied to the top-level document")
		}
		x, err := expr.Compile(e.Value, p.vars...)
		if err != nil {
			return nil, err
		}
		return &exprNode{e: x}, nil
	case "$where":
		if lvl == levelSub {
			return nil, badValue("$where can only be applied to the top-level document")
		}
		return nil, mongoerr.Newf(mongoerr.NotImplemented, "$where is not supported by mongotest: it does not run JavaScript")
	case "$text":
		if lvl == levelSub {
			return nil, badValue("$text can only be applied to the top-level document")
		}
		return nil, mongoerr.Newf(mongoerr.IndexNotFound, "text index required for $text query")
	case "$jsonSchema":
		d, ok := e.Value.(bson.D)
		if !ok {
			return nil, mongoerr.Newf(mongoerr.TypeMismatch, "$jsonSchema must be an object")
		}
		s, err := parseSchema(d, true)
		if err != nil {
			return nil, err
		}
		if s.never {
			return constNode(false), nil
		}
		return &schemaNode{s: s}, nil
	case "$alwaysTrue", "$alwaysFalse":
		n, err := integerArg(e.Key, e.Value)
		if err != nil {
			return nil, err
		}
		if n != 1 {
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "%s must be an integer value of 1", e.Key)
		}
		return constNode(e.Key == "$alwaysTrue"), nil
	case "$sampleRate":
		if lvl == levelSub {
			return nil, badValue("$sampleRate can only be applied to the top-level document")
		}
		if !value.IsNumber(e.Value) {
			return nil, badValue("argument to $sampleRate must be a numeric type")
		}
		x, _ := value.ToFloat64(e.Value)
		if !(x >= 0 && x <= 1) {
			return nil, badValue("numeric argument to $sampleRate must be in [0, 1]")
		}
		return sampleNode(x), nil
	case "$id", "$ref", "$db":
		// Parts of a DBRef queried on their own: equality on that field, even for a regex.
		if _, ok := e.Value.(bson.Undefined); ok {
			return nil, badValue("cannot compare to undefined")
		}
		return &fieldNode{path: newPath(e.Key), pred: &leafPred{l: newEqLeaf(e.Value)}}, nil
	}
	if pathlessOperators[e.Key] {
		return nil, notImplemented(e.Key)
	}
	hint := ". If you have a field name that starts with a '$' symbol, consider using $getField or $setField."
	if e.Key == "$not" {
		hint = ". If you are trying to negate an entire expression, use $nor."
	}
	return nil, badValue("unknown top level operator: %s%s", e.Key, hint)
}

// parseTree compiles $and, $or and $nor.
func (p *parser) parseTree(name string, v any, lvl level) (node, error) {
	arr, ok := v.(bson.A)
	if !ok {
		return nil, badValue("%s must be an array", name)
	}
	if len(arr) == 0 {
		return nil, badValue("$and/$or/$nor must be a nonempty array")
	}
	children := make([]node, 0, len(arr))
	for _, item := range arr {
		d, ok := item.(bson.D)
		if !ok {
			return nil, badValue("$or/$and/$nor entries need to be full objects")
		}
		n, err := p.parseFilter(d, lvl)
		if err != nil {
			return nil, err
		}
		children = append(children, n)
	}
	switch name {
	case "$and":
		if len(children) == 1 {
			return children[0], nil
		}
		return andNode(children), nil
	case "$or":
		// mongod's normalization replaces a one-clause $or by its clause.
		if len(children) == 1 {
			return children[0], nil
		}
		return orNode(children), nil
	}
	return norNode(children), nil
}

// parseSub compiles the operator document of a field ({$gt: 1, $lt: 5}) into predicates on
// that field, one per operator.
func (p *parser) parseSub(name string, sub bson.D, lvl level) ([]pred, error) {
	if len(sub) > 0 {
		switch sub[0].Key {
		case "$near", "$nearSphere", "$geoNear":
			switch sub[0].Value.(type) {
			case bson.D, bson.A:
				return nil, notImplemented(sub[0].Key)
			}
		}
	}
	preds := make([]pred, 0, len(sub))
	for _, e := range sub {
		pr, err := p.parseSubField(name, sub, e, lvl)
		if err != nil {
			return nil, err
		}
		if pr != nil {
			preds = append(preds, pr)
		}
	}
	return preds, nil
}

// parseSubField compiles one operator of a field's operator document. ctx is the whole
// operator document ($regex and $options read each other).
func (p *parser) parseSubField(name string, ctx bson.D, e bson.E, lvl level) (pred, error) {
	switch e.Key {
	case "$not":
		return p.parseNot(name, e.Value, lvl)
	case "$eq":
		if _, ok := e.Value.(bson.Undefined); ok {
			return nil, badValue("cannot compare to undefined")
		}
		return &leafPred{l: newEqLeaf(e.Value)}, nil
	case "$ne":
		if _, ok := e.Value.(bson.Regex); ok {
			return nil, badValue("Can't have regex as arg to $ne.")
		}
		if _, ok := e.Value.(bson.Undefined); ok {
			return nil, badValue("cannot compare to undefined")
		}
		return &notPred{sub: &leafPred{l: newEqLeaf(e.Value)}}, nil
	case "$lt", "$lte", "$gt", "$gte":
		switch e.Value.(type) {
		case bson.Regex:
			return nil, badValue("Can't have RegEx as arg to predicate over field '%s'.", name)
		case bson.Undefined:
			return nil, badValue("cannot compare to undefined")
		}
		op := opLT
		switch e.Key {
		case "$lte":
			op = opLTE
		case "$gt":
			op = opGT
		case "$gte":
			op = opGTE
		}
		return &leafPred{l: newCmpLeaf(op, e.Value)}, nil
	case "$in", "$nin":
		l, err := parseIn(e.Key, e.Value)
		if err != nil {
			return nil, err
		}
		if e.Key == "$nin" {
			return &notPred{sub: &leafPred{l: l}}, nil
		}
		return &leafPred{l: l}, nil
	case "$exists":
		if value.Truthy(e.Value) {
			return &leafPred{l: existsLeaf{}}, nil
		}
		return &notPred{sub: &leafPred{l: existsLeaf{}}}, nil
	case "$type":
		t, err := parseTypeSet(name, e.Value)
		if err != nil {
			return nil, err
		}
		return &leafPred{l: t}, nil
	case "$size":
		n, err := nonNegativeInt("$size", e.Value)
		if err != nil {
			return nil, badValue("Failed to parse $size. %s", err.(*mongoerr.Error).Message)
		}
		return &leafPred{l: sizeLeaf{n: n}, whole: true}, nil
	case "$mod":
		return parseMod(e.Value)
	case "$regex":
		return parseRegexDoc(ctx)
	case "$options":
		for _, o := range ctx {
			if o.Key == "$regex" {
				return nil, nil // compiled with its $regex
			}
		}
		return nil, badValue("$options needs a $regex")
	case "$elemMatch":
		l, err := p.parseElemMatch(e.Value)
		if err != nil {
			return nil, err
		}
		return &leafPred{l: l, whole: true}, nil
	case "$all":
		return p.parseAll(e.Value)
	case "$bitsAllSet", "$bitsAllClear", "$bitsAnySet", "$bitsAnyClear":
		return parseBits(name, e)
	case "$geoWithin", "$within", "$geoIntersects":
		return nil, notImplemented(e.Key)
	case "$near", "$nearSphere", "$geoNear":
		return nil, badValue("near must be first in: %s", value.Format(ctx))
	case "$where":
		return nil, badValue("$where cannot be applied to a field")
	}
	if pathOperators[e.Key] {
		return nil, notImplemented(e.Key)
	}
	return nil, badValue("unknown operator: %s", e.Key)
}

// parseNot compiles $not: a regex, or an operator document whose conjunction is negated.
func (p *parser) parseNot(name string, v any, lvl level) (pred, error) {
	if re, ok := v.(bson.Regex); ok {
		l, err := newRegexLeaf(re.Pattern, re.Options)
		if err != nil {
			return nil, err
		}
		return &notPred{sub: &leafPred{l: l}}, nil
	}
	d, ok := v.(bson.D)
	if !ok {
		return nil, badValue("$not needs a regex or a document")
	}
	if len(d) == 0 {
		return nil, badValue("$not cannot be empty")
	}
	preds, err := p.parseSub(name, d, lvl)
	if err != nil {
		return nil, err
	}
	return &notPred{sub: andPred(preds)}, nil
}

// parseIn compiles the list of $in or $nin.
func parseIn(op string, v any) (*inLeaf, error) {
	arr, ok := v.(bson.A)
	if !ok {
		return nil, badValue("%s needs an array", op)
	}
	vals := make([]any, 0, len(arr))
	var regexes []*regexLeaf
	for _, item := range arr {
		if _, ok := isOperatorDoc(item, false); ok {
			return nil, badValue("cannot nest $ under $in")
		}
		switch x := item.(type) {
		case bson.Regex:
			r, err := newRegexLeaf(x.Pattern, x.Options)
			if err != nil {
				return nil, err
			}
			regexes = append(regexes, r)
			continue
		case bson.Undefined:
			return nil, badValue("InMatchExpression equality cannot be undefined")
		}
		vals = append(vals, item)
	}
	return newInLeaf(vals, regexes), nil
}

// parseRegexDoc compiles {$regex: …, $options: …}. Options may come from a regex value or
// from $options, not both.
func parseRegexDoc(ctx bson.D) (pred, error) {
	var pattern, options string
	for _, e := range ctx {
		switch e.Key {
		case "$regex":
			switch x := e.Value.(type) {
			case string:
				pattern = x
			case bson.Regex:
				pattern = x.Pattern
				if x.Options != "" {
					if options != "" {
						return nil, mongoerr.Newf(codeOptionsThenRegex, "options set in both $regex and $options")
					}
					options = x.Options
				}
			default:
				return nil, badValue("$regex has to be a string")
			}
		case "$options":
			s, ok := e.Value.(string)
			if !ok {
				return nil, badValue("$options has to be a string")
			}
			if options != "" {
				return nil, mongoerr.Newf(codeRegexThenOptions, "options set in both $regex and $options")
			}
			options = s
		}
	}
	l, err := newRegexLeaf(pattern, options)
	if err != nil {
		return nil, err
	}
	return &leafPred{l: l}, nil
}

// parseElemMatch compiles the argument of $elemMatch: a document of operators tests the
// elements themselves; any other document is a query on elements that are documents.
func (p *parser) parseElemMatch(v any) (leaf, error) {
	d, ok := v.(bson.D)
	if !ok {
		return nil, badValue("$elemMatch needs an Object")
	}
	if _, isOp := isOperatorDoc(d, true); isOp && !pathlessOperators[d[0].Key] {
		subs, err := p.parseSub("", d, levelSub)
		if err != nil {
			return nil, err
		}
		return &elemValueLeaf{subs: subs}, nil
	}
	n, err := p.parseFilter(d, levelSub)
	if err != nil {
		return nil, err
	}
	return &elemObjectLeaf{sub: n}, nil
}

// parseAll compiles $all: the conjunction of equalities (or regexes) with each value, or of
// $elemMatch conditions. An empty $all matches nothing.
func (p *parser) parseAll(v any) (pred, error) {
	arr, ok := v.(bson.A)
	if !ok {
		return nil, badValue("$all needs an array")
	}
	if len(arr) == 0 {
		return constPred(false), nil
	}
	preds := make([]pred, 0, len(arr))
	if d, ok := arr[0].(bson.D); ok && len(d) > 0 && d[0].Key == "$elemMatch" {
		for _, item := range arr {
			d, ok := item.(bson.D)
			if !ok || len(d) == 0 || d[0].Key != "$elemMatch" {
				return nil, badValue("$all/$elemMatch has to be consistent")
			}
			l, err := p.parseElemMatch(d[0].Value)
			if err != nil {
				return nil, err
			}
			preds = append(preds, &leafPred{l: l, whole: true})
		}
		return andOf(preds), nil
	}
	for _, item := range arr {
		if d, ok := item.(bson.D); ok && len(d) > 0 && pathOperators[d[0].Key] {
			return nil, badValue("no $ expressions in $all")
		}
		pr, err := equalityOrRegex(item)
		if err != nil {
			return nil, err
		}
		preds = append(preds, pr)
	}
	return andOf(preds), nil
}

// parseTypeSet compiles the argument of $type: a type number, a type alias, "number", or an
// array of them.
func parseTypeSet(name string, v any) (*typeLeaf, error) {
	t := &typeLeaf{}
	add := func(item any) error {
		switch x := item.(type) {
		case string:
			if x == "number" {
				t.addNumbers()
				return nil
			}
			n, ok := value.TypeNumberOf(x)
			if !ok {
				if x == "missing" {
					return badValue("'missing' is not a legal type name. To query for non-existence of a field, use {$exists:false}.")
				}
				return badValue("Unknown type name alias: %s", x)
			}
			t.add(n)
			return nil
		case int32, int64, float64, bson.Decimal128:
			n, err := integerArg("$type", x)
			if err != nil || n < math.MinInt32 || n > math.MaxInt32 {
				return badValue("Invalid numerical type code: %s", numberString(x))
			}
			if n == 0 {
				return badValue("Invalid numerical type code: %s. Instead use {$exists:false}.", numberString(x))
			}
			if _, ok := value.TypeNameOf(int32(n)); !ok {
				return badValue("Invalid numerical type code: %s", numberString(x))
			}
			t.add(int32(n))
			return nil
		}
		return mongoerr.Newf(mongoerr.TypeMismatch, "type must be represented as a number or a string")
	}
	if arr, ok := v.(bson.A); ok {
		for _, item := range arr {
			if err := add(item); err != nil {
				return nil, err
			}
		}
	} else if err := add(v); err != nil {
		return nil, err
	}
	if t.empty() {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "%s must match at least one type", name)
	}
	return t, nil
}

// numberString renders a number as mongod's BSONElement::number() does in messages.
func numberString(v any) string {
	if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return value.Format(int64(f))
	}
	return value.Format(v)
}

// parseMod compiles $mod: [divisor, remainder], both truncated to integers.
func parseMod(v any) (pred, error) {
	arr, ok := v.(bson.A)
	if !ok {
		return nil, badValue("malformed mod, needs to be an array")
	}
	if len(arr) < 1 {
		return nil, badValue("malformed mod, not enough elements")
	}
	if !value.IsNumber(arr[0]) {
		return nil, badValue("malformed mod, divisor not a number")
	}
	if len(arr) < 2 {
		return nil, badValue("malformed mod, not enough elements")
	}
	if !value.IsNumber(arr[1]) {
		return nil, badValue("malformed mod, remainder not a number")
	}
	if len(arr) > 2 {
		return nil, badValue("malformed mod, too many elements")
	}
	div, ok := truncToInt64(arr[0])
	if !ok {
		return nil, badValue("malformed mod, divisor value is invalid :: caused by :: %s", coerceError(arr[0]))
	}
	rem, ok := truncToInt64(arr[1])
	if !ok {
		return nil, badValue("malformed mod, remainder value is invalid :: caused by :: %s", coerceError(arr[1]))
	}
	if div == 0 {
		return nil, badValue("divisor cannot be 0")
	}
	return &leafPred{l: modLeaf{div: div, rem: rem}}, nil
}

func coerceError(v any) string {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "Unable to coerce NaN/Inf to integral type"
		}
	case bson.Decimal128:
		if x.IsNaN() || x.IsInf() != 0 {
			return "Unable to coerce NaN/Inf to integral type"
		}
	}
	return "Out of bounds coercing to integral value"
}

// parseBits compiles the bitwise operators: an array of bit positions, a non-negative
// integer bitmask, or a BinData bitmask.
func parseBits(name string, e bson.E) (pred, error) {
	b := &bitsLeaf{op: bitsAllSet}
	switch e.Key {
	case "$bitsAllClear":
		b.op = bitsAllClear
	case "$bitsAnySet":
		b.op = bitsAnySet
	case "$bitsAnyClear":
		b.op = bitsAnyClear
	}
	switch x := e.Value.(type) {
	case bson.A:
		for i, item := range x {
			n, err := nonNegativeInt(itoa(i), item)
			if err != nil {
				return nil, badValue("Failed to parse bit position. %s", err.(*mongoerr.Error).Message)
			}
			b.positions = append(b.positions, uint32(n))
			b.mask |= 1 << min(n, 63)
		}
	case int32, int64, float64, bson.Decimal128:
		n, err := integerArg(e.Key, x)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "Expected a non-negative number in: %s", value.FormatElem(e.Key, x))
		}
		b.mask = uint64(n)
		for bit := uint32(0); bit < 64; bit++ {
			if b.mask&(1<<bit) != 0 {
				b.positions = append(b.positions, bit)
			}
		}
	case bson.Binary:
		for i, c := range x.Data {
			for bit := 0; bit < 8; bit++ {
				if c&(1<<bit) == 0 {
					continue
				}
				pos := uint32(i*8 + bit)
				b.positions = append(b.positions, pos)
				if i < 8 {
					b.mask |= 1 << pos
				}
			}
		}
	default:
		return nil, badValue("%s takes an Array, a number, or a BinData but received: %s", name, value.FormatElem(e.Key, e.Value))
	}
	return &leafPred{l: b}, nil
}

// integerArg converts an integral number argument to int64, with mongod's
// parseIntegerElementToLong errors (FailedToParse).
func integerArg(name string, v any) (int64, error) {
	fail := func(format string) (int64, error) {
		return 0, mongoerr.Newf(mongoerr.FailedToParse, format, value.FormatElem(name, v))
	}
	switch x := v.(type) {
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case float64:
		switch {
		case math.IsNaN(x):
			return fail("Expected an integer, but found NaN in: %s")
		case x >= 9.223372036854775808e18 || x < -9.223372036854775808e18:
			return fail("Cannot represent as a 64-bit integer: %s")
		case x != math.Trunc(x):
			return fail("Expected an integer: %s")
		}
		return int64(x), nil
	case bson.Decimal128:
		d, err := value.ToDecimal(x)
		if err != nil || d.Form != apd.Finite {
			return fail("Cannot represent as a 64-bit integer: %s")
		}
		n, ok := value.ToInt64(x)
		if !ok {
			return fail("Cannot represent as a 64-bit integer: %s")
		}
		return n, nil
	}
	return fail("Expected a number in: %s")
}

// nonNegativeInt is integerArg restricted to non-negative values that fit an int32.
func nonNegativeInt(name string, v any) (int, error) {
	n, err := integerArg(name, v)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, mongoerr.Newf(mongoerr.FailedToParse, "Expected a non-negative number in: %s", value.FormatElem(name, v))
	}
	if n > math.MaxInt32 {
		return 0, mongoerr.Newf(mongoerr.FailedToParse, "Cannot represent %s in an int", value.FormatElem(name, v))
	}
	return int(n), nil
}
