package expr

// String operators. MongoDB strings are UTF-8; "bytes" operators count bytes and "CP"
// operators count code points. Case mapping and $strcasecmp only know ASCII letters.

import (
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$concat", parseConcat)
	register("$indexOfBytes", func(args any, sc *scope) (node, error) { return parseIndexOf("$indexOfBytes", false, args, sc) })
	register("$indexOfCP", func(args any, sc *scope) (node, error) { return parseIndexOf("$indexOfCP", true, args, sc) })
	register("$trim", func(args any, sc *scope) (node, error) { return parseTrim("$trim", true, true, args, sc) })
	register("$ltrim", func(args any, sc *scope) (node, error) { return parseTrim("$ltrim", true, false, args, sc) })
	register("$rtrim", func(args any, sc *scope) (node, error) { return parseTrim("$rtrim", false, true, args, sc) })
	register("$replaceOne", func(args any, sc *scope) (node, error) { return parseReplace("$replaceOne", false, args, sc) })
	register("$replaceAll", func(args any, sc *scope) (node, error) { return parseReplace("$replaceAll", true, args, sc) })
	register("$split", parseSplit)
	register("$strLenBytes", func(args any, sc *scope) (node, error) { return parseStrLen("$strLenBytes", false, args, sc) })
	register("$strLenCP", func(args any, sc *scope) (node, error) { return parseStrLen("$strLenCP", true, args, sc) })
	register("$strcasecmp", parseStrcasecmp)
	register("$substr", func(args any, sc *scope) (node, error) { return parseSubstrBytes(args, sc) })
	register("$substrBytes", func(args any, sc *scope) (node, error) { return parseSubstrBytes(args, sc) })
	register("$substrCP", parseSubstrCP)
	register("$toLower", func(args any, sc *scope) (node, error) { return parseCase("$toLower", false, args, sc) })
	register("$toUpper", func(args any, sc *scope) (node, error) { return parseCase("$toUpper", true, args, sc) })
}

// concatNode is {$concat: [...]}: null if any operand is nullish, an error for a
// non-string.
type concatNode []node

func parseConcat(args any, sc *scope) (node, error) {
	ops, err := operands(args, sc)
	if err != nil {
		return nil, err
	}
	return foldConstant(concatNode(ops), ops...)
}

func (n concatNode) eval(c *ctx) (any, error) {
	var b strings.Builder
	for _, op := range n {
		v, err := op.eval(c)
		if err != nil {
			return nil, err
		}
		if value.IsNullish(v) {
			return nil, nil
		}
		s, ok := v.(string)
		if !ok {
			return nil, mongoerr.Newf(16702, "$concat only supports strings, not %s", typeName(v))
		}
		if len(n) == 1 {
			return s, nil
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// indexOfNode is $indexOfBytes or $indexOfCP.
type indexOfNode struct {
	op   string
	cp   bool
	args []node
}

func parseIndexOf(op string, cp bool, args any, sc *scope) (node, error) {
	ops, err := rangeOperands(op, 2, 4, args, sc)
	if err != nil {
		return nil, err
	}
	return foldConstant(&indexOfNode{op: op, cp: cp, args: ops}, ops...)
}

// indexBound evaluates a start or end index: an integral number fitting an int32 that is
// not negative.
func indexBound(c *ctx, n node, op, what string) (int, error) {
	v, err := n.eval(c)
	if err != nil {
		return 0, err
	}
	i, ok := sdIntegral32(v)
	if !ok {
		return 0, mongoerr.Newf(40096, "%srequires an integral %s, found a value of type: %s, with value: %s", op, what, typeName(v), sdRender(v))
	}
	if i < 0 {
		return 0, mongoerr.Newf(40097, "%s requires a nonnegative %s, found: %s", op, what, sdRender(v))
	}
	return int(i), nil
}

func (n *indexOfNode) eval(c *ctx) (any, error) {
	sv, err := n.args[0].eval(c)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(sv) {
		return nil, nil
	}
	firstCode, secondCode := int32(40091), int32(40092)
	if n.cp {
		firstCode, secondCode = 40093, 40094
	}
	s, ok := sv.(string)
	if !ok {
		return nil, mongoerr.Newf(firstCode, "%s requires a string as the first argument, found: %s", n.op, typeName(sv))
	}
	tv, err := n.args[1].eval(c)
	if err != nil {
		return nil, err
	}
	token, ok := tv.(string)
	if !ok {
		return nil, mongoerr.Newf(secondCode, "%s requires a string as the second argument, found: %s", n.op, typeName(tv))
	}
	start := 0
	if len(n.args) > 2 {
		if start, err = indexBound(c, n.args[2], n.op, "starting index"); err != nil {
			return nil, err
		}
	}
	if n.cp {
		return n.indexOfCP(c, s, token, start)
	}
	end := len(s)
	if len(n.args) > 3 {
		e, err := indexBound(c, n.args[3], n.op, "ending index")
		if err != nil {
			return nil, err
		}
		end = min(end, e)
	}
	if start > len(s) || end < start {
		return int32(-1), nil
	}
	i := strings.Index(s[start:end], token)
	if i < 0 {
		return int32(-1), nil
	}
	return int32(start + i), nil
}

// indexOfCP searches by code point. As in MongoDB, a match only has to start before the
// end index, and searching from the end of the string finds nothing.
func (n *indexOfNode) indexOfCP(c *ctx, s, token string, start int) (any, error) {
	length, startByte := 0, 0
	for i := 0; i < len(s); length++ {
		if length == start {
			startByte = i
		}
		if sdIsUTF8Continuation(s[i]) {
			return nil, mongoerr.Newf(40095, "$indexOfCP found bad UTF-8 in the input")
		}
		i += sdCodePointLen(s[i])
	}
	end := length
	if len(n.args) > 3 {
		e, err := indexBound(c, n.args[3], n.op, "ending index")
		if err != nil {
			return nil, err
		}
		end = min(end, e)
	}
	if end < start {
		return int32(-1), nil
	}
	if s == "" && token == "" {
		return int32(0), nil
	}
	b := startByte
	for cp := start; cp < end && b <= len(s); cp++ {
		if strings.HasPrefix(s[b:], token) {
			return int32(cp), nil
		}
		if b == len(s) {
			break
		}
		b += sdCodePointLen(s[b])
	}
	return int32(-1), nil
}

// defaultTrimChars are the code points $trim removes when no chars are given.
var defaultTrimChars = []string{"\x00", " ", "\t", "\n", "\v", "\f", "\r", "\u00a0", "\u1680",
	"\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006", "\u2007", "\u2008",
	"\u2009", "\u200a"}

// trimNode is $trim, $ltrim or $rtrim.
type trimNode struct {
	op          string
	left, right bool
	input       node
	chars       node
	// charsConst holds the code points of a constant chars argument, split once.
	charsConst    []string
	charsConstErr error
	hasCharsConst bool
}

func parseTrim(op string, left, right bool, args any, sc *scope) (node, error) {
	d, ok := sdNamedArgs(args)
	if !ok {
		return nil, mongoerr.Newf(50696, "%s requires an object as an argument, found: %s", op, typeName(args))
	}
	n := &trimNode{op: op, left: left, right: right}
	for _, e := range d {
		var dst *node
		switch e.Key {
		case "input":
			dst = &n.input
		case "chars":
			dst = &n.chars
		default:
			return nil, mongoerr.Newf(50694, "%s found an unknown argument: %s", op, e.Key)
		}
		p, err := parse(e.Value, sc)
		if err != nil {
			return nil, err
		}
		*dst = p
	}
	if n.input == nil {
		return nil, mongoerr.Newf(50695, "%s requires an 'input' field", op)
	}
	if l, ok := n.chars.(literal); ok {
		if s, ok := l.v.(string); ok {
			n.hasCharsConst = true
			n.charsConst, n.charsConstErr = splitTrimChars(s)
		}
	}
	return sdFold(n, n.input, n.chars)
}

// splitTrimChars splits chars into its code points, rejecting malformed UTF-8 as MongoDB
// does.
func splitTrimChars(s string) ([]string, error) {
	out := make([]string, 0, len(s))
	for i := 0; i < len(s); {
		if sdIsUTF8Continuation(s[i]) {
			return nil, mongoerr.Newf(5156305, "Failed to parse \"chars\" argument to $trim/$ltrim/$rtrim: Detected invalid UTF-8. Got continuation byte when expecting the start of a new code point.")
		}
		w := 1
		switch {
		case s[i]&0xF8 == 0xF0:
			w = 4
		case s[i]&0xF0 == 0xE0:
			w = 3
		case s[i]&0xE0 == 0xC0:
			w = 2
		}
		if i+w > len(s) {
			return nil, mongoerr.Newf(5156304, "Failed to parse \"chars\" argument to $trim/$ltrim/$rtrim: Detected invalid UTF-8. Missing expected continuation byte at end of string.")
		}
		out = append(out, s[i:i+w])
		i += w
	}
	return out, nil
}

func (n *trimNode) eval(c *ctx) (any, error) {
	v, err := n.input.eval(c)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(v) {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, mongoerr.Newf(50699, "%s requires its input to be a string, got %s (of type %s) instead.", n.op, sdRender(v), typeName(v))
	}
	cps := defaultTrimChars
	switch {
	case n.chars == nil:
	case n.hasCharsConst:
		if n.charsConstErr != nil {
			return nil, n.charsConstErr
		}
		cps = n.charsConst
	default:
		cv, err := n.chars.eval(c)
		if err != nil {
			return nil, err
		}
		if value.IsNullish(cv) {
			return nil, nil
		}
		cs, ok := cv.(string)
		if !ok {
			return nil, mongoerr.Newf(50700, "%s requires 'chars' to be a string, got %s (of type %s) instead.", n.op, sdRender(cv), typeName(cv))
		}
		if cps, err = splitTrimChars(cs); err != nil {
			return nil, err
		}
	}
	if n.left {
		s = trimLeftCPs(s, cps)
	}
	if n.right {
		s = trimRightCPs(s, cps)
	}
	return s, nil
}

func trimLeftCPs(s string, cps []string) string {
	for len(s) > 0 {
		matched := false
		for _, cp := range cps {
			if strings.HasPrefix(s, cp) {
				s = s[len(cp):]
				matched = true
				break
			}
		}
		if !matched {
			break
		}
	}
	return s
}

func trimRightCPs(s string, cps []string) string {
	for len(s) > 0 {
		matched := false
		for _, cp := range cps {
			if strings.HasSuffix(s, cp) {
				s = s[:len(s)-len(cp)]
				matched = true
				break
			}
		}
		if !matched {
			break
		}
	}
	return s
}

// replaceNode is $replaceOne or $replaceAll.
type replaceNode struct {
	op                       string
	all                      bool
	input, find, replacement node
}

func parseReplace(op string, all bool, args any, sc *scope) (node, error) {
	d, ok := sdNamedArgs(args)
	if !ok {
		return nil, mongoerr.Newf(51751, "%s requires an object as an argument, found: %s", op, typeName(args))
	}
	n := &replaceNode{op: op, all: all}
	for _, e := range d {
		var dst *node
		switch e.Key {
		case "input":
			dst = &n.input
		case "find":
			dst = &n.find
		case "replacement":
			dst = &n.replacement
		default:
			return nil, mongoerr.Newf(51750, "%s found an unknown argument: %s", op, e.Key)
		}
		p, err := parse(e.Value, sc)
		if err != nil {
			return nil, err
		}
		*dst = p
	}
	switch {
	case n.input == nil:
		return nil, mongoerr.Newf(51749, "%s requires 'input' to be specified", op)
	case n.find == nil:
		return nil, mongoerr.Newf(51748, "%s requires 'find' to be specified", op)
	case n.replacement == nil:
		return nil, mongoerr.Newf(51747, "%s requires 'replacement' to be specified", op)
	}
	return sdFold(n, n.input, n.find, n.replacement)
}

func (n *replaceNode) eval(c *ctx) (any, error) {
	var vals [3]any
	for i, a := range [3]node{n.input, n.find, n.replacement} {
		v, err := a.eval(c)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	codes := [3]int32{51746, 51745, 51744}
	names := [3]string{"input", "find", "replacement"}
	nullish := false
	for i, v := range vals {
		if value.IsNullish(v) {
			nullish = true
			continue
		}
		if _, ok := v.(string); !ok {
			return nil, mongoerr.Newf(codes[i], "%s requires that '%s' be a string, found: %s", n.op, names[i], sdRender(v))
		}
	}
	if nullish {
		return nil, nil
	}
	in, find, repl := vals[0].(string), vals[1].(string), vals[2].(string)
	if !n.all {
		return strings.Replace(in, find, repl, 1), nil
	}
	if find == "" {
		// An empty string matches before every byte and at the end.
		var b strings.Builder
		b.Grow(len(in) + (len(in)+1)*len(repl))
		for i := 0; i < len(in); i++ {
			b.WriteString(repl)
			b.WriteByte(in[i])
		}
		b.WriteString(repl)
		return b.String(), nil
	}
	return strings.ReplaceAll(in, find, repl), nil
}

// splitNode is {$split: [string, delimiter]}.
type splitNode [2]node

func parseSplit(args any, sc *scope) (node, error) {
	ops, err := fixedOperands("$split", 2, args, sc)
	if err != nil {
		return nil, err
	}
	return foldConstant(splitNode{ops[0], ops[1]}, ops...)
}

func (n splitNode) eval(c *ctx) (any, error) {
	in, err := n[0].eval(c)
	if err != nil {
		return nil, err
	}
	sep, err := n[1].eval(c)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(in) || value.IsNullish(sep) {
		return nil, nil
	}
	s, ok := in.(string)
	if !ok {
		return nil, mongoerr.Newf(40085, "$split requires an expression that evaluates to a string as a first argument, found: %s", typeName(in))
	}
	d, ok := sep.(string)
	if !ok {
		return nil, mongoerr.Newf(40086, "$split requires an expression that evaluates to a string as a second argument, found: %s", typeName(sep))
	}
	if d == "" {
		return nil, mongoerr.Newf(40087, "$split requires a non-empty separator")
	}
	parts := strings.Split(s, d)
	out := make(bson.A, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

// strLenNode is $strLenBytes or $strLenCP.
type strLenNode struct {
	cp  bool
	arg node
}

func parseStrLen(op string, cp bool, args any, sc *scope) (node, error) {
	ops, err := fixedOperands(op, 1, args, sc)
	if err != nil {
		return nil, err
	}
	return foldConstant(&strLenNode{cp: cp, arg: ops[0]}, ops...)
}

func (n *strLenNode) eval(c *ctx) (any, error) {
	v, err := n.arg.eval(c)
	if err != nil {
		return nil, err
	}
	s, ok := v.(string)
	if !ok {
		if n.cp {
			return nil, mongoerr.Newf(34471, "$strLenCP requires a string argument, found: %s", typeName(v))
		}
		return nil, mongoerr.Newf(34473, "$strLenBytes requires a string argument, found: %s", typeName(v))
	}
	if n.cp {
		return int32(sdCountCodePoints(s)), nil
	}
	return int32(len(s)), nil
}

// strcasecmpNode compares two values as strings, ignoring ASCII case.
type strcasecmpNode [2]node

func parseStrcasecmp(args any, sc *scope) (node, error) {
	ops, err := fixedOperands("$strcasecmp", 2, args, sc)
	if err != nil {
		return nil, err
	}
	return foldConstant(strcasecmpNode{ops[0], ops[1]}, ops...)
}

func (n strcasecmpNode) eval(c *ctx) (any, error) {
	var s [2]string
	for i, a := range n {
		v, err := a.eval(c)
		if err != nil {
			return nil, err
		}
		if s[i], err = sdCoerceToString(v); err != nil {
			return nil, err
		}
	}
	a, b := s[0], s[1]
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := sdASCIIUpper(a[i]), sdASCIIUpper(b[i])
		if x != y {
			if x < y {
				return int32(-1), nil
			}
			return int32(1), nil
		}
	}
	switch {
	case len(a) < len(b):
		return int32(-1), nil
	case len(a) > len(b):
		return int32(1), nil
	}
	return int32(0), nil
}

func sdASCIIUpper(b byte) byte {
	if b >= 'a' && b <= 'z' {
		return b - 'a' + 'A'
	}
	return b
}

func sdASCIILower(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b - 'A' + 'a'
	}
	return b
}

// substrBytesNode is $substrBytes (and its alias $substr).
type substrBytesNode [3]node

func parseSubstrBytes(args any, sc *scope) (node, error) {
	ops, err := fixedOperands("$substrBytes", 3, args, sc)
	if err != nil {
		return nil, err
	}
	return foldConstant(substrBytesNode{ops[0], ops[1], ops[2]}, ops...)
}

func (n substrBytesNode) eval(c *ctx) (any, error) {
	var v [3]any
	for i, a := range n {
		x, err := a.eval(c)
		if err != nil {
			return nil, err
		}
		v[i] = x
	}
	s, err := sdCoerceToString(v[0])
	if err != nil {
		return nil, err
	}
	if !value.IsNumber(v[1]) {
		return nil, mongoerr.Newf(16034, "$substrBytes:  starting index must be a numeric type (is BSON type %s)", typeName(v[1]))
	}
	if !value.IsNumber(v[2]) {
		return nil, mongoerr.Newf(16035, "$substrBytes:  length must be a numeric type (is BSON type %s)", typeName(v[2]))
	}
	lower, err := sdCoerceToLong(v[1])
	if err != nil {
		return nil, err
	}
	if lower < 0 {
		return nil, mongoerr.Newf(50752, "$substrBytes:  starting index must be non-negative (got: %d)", lower)
	}
	length, err := sdCoerceToLong(v[2])
	if err != nil {
		return nil, err
	}
	if length < 0 {
		length = int64(len(s))
	}
	n64 := int64(len(s))
	if lower < n64 && sdIsUTF8Continuation(s[lower]) {
		return nil, mongoerr.Newf(28656, "$substrBytes:  Invalid range, starting index is a UTF-8 continuation byte.")
	}
	end := lower + length
	if end < lower { // overflow: the rest of the string
		end = n64
	}
	if end < n64 && sdIsUTF8Continuation(s[end]) {
		return nil, mongoerr.Newf(28657, "$substrBytes:  Invalid range, ending index is in the middle of a UTF-8 character.")
	}
	if lower >= n64 {
		return "", nil
	}
	return s[lower:min(end, n64)], nil
}

// substrCPNode is $substrCP.
type substrCPNode [3]node

func parseSubstrCP(args any, sc *scope) (node, error) {
	ops, err := fixedOperands("$substrCP", 3, args, sc)
	if err != nil {
		return nil, err
	}
	return foldConstant(substrCPNode{ops[0], ops[1], ops[2]}, ops...)
}

func (n substrCPNode) eval(c *ctx) (any, error) {
	var v [3]any
	for i, a := range n {
		x, err := a.eval(c)
		if err != nil {
			return nil, err
		}
		v[i] = x
	}
	s, err := sdCoerceToString(v[0])
	if err != nil {
		return nil, err
	}
	if !value.IsNumber(v[1]) {
		return nil, mongoerr.Newf(34450, "$substrCP: starting index must be a numeric type (is BSON type %s)", typeName(v[1]))
	}
	start, ok := sdIntegral32(v[1])
	if !ok {
		return nil, mongoerr.Newf(34451, "$substrCP: starting index cannot be represented as a 32-bit integral value: %s", sdRender(v[1]))
	}
	if !value.IsNumber(v[2]) {
		return nil, mongoerr.Newf(34452, "$substrCP: length must be a numeric type (is BSON type %s)", typeName(v[2]))
	}
	length, ok := sdIntegral32(v[2])
	if !ok {
		return nil, mongoerr.Newf(34453, "$substrCP: length cannot be represented as a 32-bit integral value: %s", sdRender(v[2]))
	}
	if length < 0 {
		return nil, mongoerr.Newf(34454, "$substrCP: length must be a nonnegative integer.")
	}
	if start < 0 {
		return nil, mongoerr.Newf(34455, "$substrCP: the starting index must be nonnegative integer.")
	}
	b := 0
	for i := int32(0); i < start; i++ {
		if b >= len(s) {
			return "", nil
		}
		if sdIsUTF8Continuation(s[b]) {
			return nil, mongoerr.Newf(34456, "$substrCP: invalid UTF-8 string")
		}
		w := sdCodePointLen(s[b])
		if w > 4 {
			return nil, mongoerr.Newf(34457, "$substrCP: invalid UTF-8 string")
		}
		b += w
	}
	e := b
	for i := int32(0); i < length && e < len(s); i++ {
		if sdIsUTF8Continuation(s[e]) {
			return nil, mongoerr.Newf(34458, "$substrCP: invalid UTF-8 string")
		}
		w := sdCodePointLen(s[e])
		if w > 4 {
			return nil, mongoerr.Newf(34459, "$substrCP: invalid UTF-8 string")
		}
		e += w
	}
	b, e = min(b, len(s)), min(e, len(s))
	return s[b:e], nil
}

// caseNode is $toUpper or $toLower: only ASCII letters change.
type caseNode struct {
	upper bool
	arg   node
}

func parseCase(op string, upper bool, args any, sc *scope) (node, error) {
	ops, err := fixedOperands(op, 1, args, sc)
	if err != nil {
		return nil, err
	}
	return foldConstant(&caseNode{upper: upper, arg: ops[0]}, ops...)
}

func (n *caseNode) eval(c *ctx) (any, error) {
	v, err := n.arg.eval(c)
	if err != nil {
		return nil, err
	}
	s, err := sdCoerceToString(v)
	if err != nil {
		return nil, err
	}
	conv := sdASCIILower
	if n.upper {
		conv = sdASCIIUpper
	}
	for i := 0; i < len(s); i++ {
		if conv(s[i]) != s[i] {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = conv(b[j])
			}
			return string(b), nil
		}
	}
	return s, nil
}
