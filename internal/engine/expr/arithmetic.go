package expr

// Arithmetic operators: $abs $add $ceil $divide $exp $floor $ln $log $log10 $mod $multiply
// $pow $round $sqrt $subtract $trunc. Result types follow mongod: int32 results that
// overflow become longs, long overflow becomes double, a double operand gives a double and a
// decimal operand a decimal.

import (
	"math"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$add", parseAdd)
	register("$multiply", parseMultiply)
	registerBinary("$subtract", subtractValues)
	registerBinary("$divide", divideValues)
	registerBinary("$mod", modValues)
	registerBinary("$pow", powValues)
	registerBinary("$log", logValues)
	registerSingleNumeric("$abs", absValue)
	registerSingleNumeric("$ceil", func(v any) (any, error) { return integralPart(v, apd.RoundCeiling, math.Ceil), nil })
	registerSingleNumeric("$floor", func(v any) (any, error) { return integralPart(v, apd.RoundFloor, math.Floor), nil })
	registerSingleNumeric("$exp", expValue)
	registerSingleNumeric("$ln", lnValue)
	registerSingleNumeric("$log10", log10Value)
	registerSingleNumeric("$sqrt", sqrtValue)
	register("$round", func(args any, sc *scope) (node, error) { return parseRound("$round", apd.RoundHalfEven, args, sc) })
	register("$trunc", func(args any, sc *scope) (node, error) { return parseRound("$trunc", apd.RoundDown, args, sc) })
}

// singleNumericNode is an operator of one numeric operand: null and missing give null,
// other non-numbers fail with 28765.
type singleNumericNode struct {
	name string
	arg  node
	fn   func(v any) (any, error)
}

func (n *singleNumericNode) eval(c *ctx) (any, error) {
	v, err := n.arg.eval(c)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(v) {
		return nil, nil
	}
	if !value.IsNumber(v) {
		return nil, mongoerr.Newf(28765, "%s only supports numeric types, not %s", n.name, typeName(v))
	}
	return n.fn(v)
}

// registerSingleNumeric registers an operator taking exactly one numeric operand.
func registerSingleNumeric(name string, fn func(v any) (any, error)) {
	register(name, func(args any, sc *scope) (node, error) {
		ops, err := fixedOperands(name, 1, args, sc)
		if err != nil {
			return nil, err
		}
		return foldConstant(&singleNumericNode{name: name, arg: ops[0], fn: fn}, ops...)
	})
}

// binaryNode is an operator of exactly two operands, both evaluated before fn runs.
type binaryNode struct {
	a, b node
	fn   func(a, b any) (any, error)
}

func (n *binaryNode) eval(c *ctx) (any, error) {
	a, err := n.a.eval(c)
	if err != nil {
		return nil, err
	}
	b, err := n.b.eval(c)
	if err != nil {
		return nil, err
	}
	return n.fn(a, b)
}

// registerBinary registers an operator taking exactly two operands.
func registerBinary(name string, fn func(a, b any) (any, error)) {
	register(name, func(args any, sc *scope) (node, error) {
		ops, err := fixedOperands(name, 2, args, sc)
		if err != nil {
			return nil, err
		}
		return foldConstant(&binaryNode{a: ops[0], b: ops[1], fn: fn}, ops...)
	})
}

// unaryNode is an operator of exactly one operand with no implicit null handling.
type unaryNode struct {
	arg node
	fn  func(v any) (any, error)
}

func (n *unaryNode) eval(c *ctx) (any, error) {
	v, err := n.arg.eval(c)
	if err != nil {
		return nil, err
	}
	return n.fn(v)
}

// registerUnary registers an operator taking exactly one operand.
func registerUnary(name string, fn func(v any) (any, error)) {
	register(name, func(args any, sc *scope) (node, error) {
		ops, err := fixedOperands(name, 1, args, sc)
		if err != nil {
			return nil, err
		}
		return foldConstant(&unaryNode{arg: ops[0], fn: fn}, ops...)
	})
}

// commutativeOperands mimics mongod's optimizer for associative, commutative operators
// ($add, $multiply, $and, $or): operands of the same operator are inlined, constants move
// after the other operands and are folded into one with fold. The order matters because
// evaluation stops at the first null or error.
func commutativeOperands(ops []node, same func(node) ([]node, bool), fold func([]node) (node, error)) ([]node, error) {
	var vars, consts []node
	var walk func(ns []node)
	walk = func(ns []node) {
		for _, n := range ns {
			if inner, ok := same(n); ok {
				walk(inner)
				continue
			}
			if _, ok := n.(literal); ok {
				consts = append(consts, n)
			} else {
				vars = append(vars, n)
			}
		}
	}
	walk(ops)
	if len(consts) > 1 {
		f, err := fold(consts)
		if err != nil {
			return nil, err
		}
		consts = []node{f}
	}
	return append(vars, consts...), nil
}

// ---- $add ----

type addNode []node

func parseAdd(args any, sc *scope) (node, error) {
	ops, err := operands(args, sc)
	if err != nil {
		return nil, err
	}
	ops, err = commutativeOperands(ops,
		func(n node) ([]node, bool) { a, ok := n.(addNode); return a, ok },
		func(cs []node) (node, error) { return foldConstant(addNode(cs), cs...) })
	if err != nil {
		return nil, err
	}
	return foldConstant(addNode(ops), ops...)
}

func (a addNode) eval(c *ctx) (any, error) {
	s := addState{widest: rankInt}
	for _, n := range a {
		v, err := n.eval(c)
		if err != nil {
			return nil, err
		}
		if value.IsNullish(v) {
			return nil, nil
		}
		if err := s.add(v); err != nil {
			return nil, err
		}
	}
	return s.value(), nil
}

// addState sums $add's operands, tracking the widest type so the result is as narrow as
// the operands allow; a date operand turns the sum into a date.
type addState struct {
	widest int
	l      int64
	f      float64
	d      *apd.Decimal
	isDate bool
}

func (s *addState) add(v any) error {
	old := s.widest
	var val any
	switch x := v.(type) {
	case bson.DateTime:
		if s.isDate {
			return mongoerr.Newf(16612, "only one date allowed in an $add expression")
		}
		prev := s.value()
		s.l = 0
		if err := s.addToDate(prev); err != nil {
			return err
		}
		s.isDate = true
		val = int64(x)
	default:
		r := numRank(v)
		if r == rankNone {
			return mongoerr.Newf(mongoerr.TypeMismatch, "$add only supports numeric or date types, not %s", typeName(v))
		}
		s.widest = max(s.widest, r)
		val = v
	}
	if s.isDate {
		return s.addToDate(val)
	}
	if old != s.widest {
		switch s.widest {
		case rankDouble:
			s.f = float64(s.l)
		case rankDecimal:
			if old == rankDouble {
				s.d = decimalFromDouble(s.f)
			} else {
				s.d = apd.New(s.l, 0)
			}
		}
	}
	switch s.widest {
	case rankInt, rankLong:
		n, _ := int64Of(val)
		sum := s.l + n
		if (s.l >= 0) == (n >= 0) && (sum >= 0) != (s.l >= 0) {
			s.widest = rankDouble
			s.f = float64(s.l) + numDouble(val)
		} else {
			s.l = sum
		}
	case rankDouble:
		s.f += numDouble(val)
	case rankDecimal:
		_, _ = decimalCtx(apd.RoundHalfEven).Add(s.d, s.d, decimalOf(val))
	}
	return nil
}

var errDateOverflow = mongoerr.Newf(mongoerr.Overflow, "date overflow")

// addToDate adds a number of milliseconds to the running date total.
func (s *addState) addToDate(v any) error {
	var n int64
	switch x := v.(type) {
	case int32:
		n = int64(x)
	case int64:
		n = x
	case float64:
		if !(x >= -9.223372036854775808e18 && x < 9.223372036854775808e18) {
			return errDateOverflow
		}
		n = int64(math.Round(x))
	case bson.Decimal128:
		d, err := value.ToDecimal(x)
		if err != nil {
			return errDateOverflow
		}
		var ok bool
		if n, ok = decimalToInt64(d, apd.RoundHalfUp); !ok {
			return errDateOverflow
		}
	}
	sum := s.l + n
	if (s.l >= 0) == (n >= 0) && (sum >= 0) != (s.l >= 0) {
		return errDateOverflow
	}
	s.l = sum
	return nil
}

func (s *addState) value() any {
	if s.isDate {
		return bson.DateTime(s.l)
	}
	switch s.widest {
	case rankLong:
		return s.l
	case rankDouble:
		return s.f
	case rankDecimal:
		return dec128(s.d)
	}
	return intOrLong(s.l)
}

// ---- $multiply ----

type multiplyNode []node

func parseMultiply(args any, sc *scope) (node, error) {
	ops, err := operands(args, sc)
	if err != nil {
		return nil, err
	}
	ops, err = commutativeOperands(ops,
		func(n node) ([]node, bool) { m, ok := n.(multiplyNode); return m, ok },
		func(cs []node) (node, error) { return foldConstant(multiplyNode(cs), cs...) })
	if err != nil {
		return nil, err
	}
	return foldConstant(multiplyNode(ops), ops...)
}

func (m multiplyNode) eval(c *ctx) (any, error) {
	widest := rankInt
	f, l := 1.0, int64(1)
	var d *apd.Decimal
	for _, n := range m {
		v, err := n.eval(c)
		if err != nil {
			return nil, err
		}
		if value.IsNullish(v) {
			return nil, nil
		}
		r := numRank(v)
		if r == rankNone {
			return nil, mongoerr.Newf(mongoerr.TypeMismatch, "$multiply only supports numeric types, not %s", typeName(v))
		}
		old := widest
		widest = max(widest, r)
		if widest == rankDecimal {
			if old != rankDecimal {
				if old == rankDouble {
					d = decimalFromDouble(f)
				} else {
					d = apd.New(l, 0)
				}
			}
			_, _ = decimalCtx(apd.RoundHalfEven).Mul(d, d, decimalOf(v))
			continue
		}
		x := numDouble(v)
		f *= x
		if widest != rankDouble {
			n, _ := int64Of(v)
			p, ok := mulInt64(l, n)
			if math.IsInf(x, 0) || math.IsNaN(x) || !ok {
				widest = rankDouble
			} else {
				l = p
			}
		}
	}
	switch widest {
	case rankDouble:
		return f, nil
	case rankLong:
		return l, nil
	case rankDecimal:
		return dec128(d), nil
	}
	return intOrLong(l), nil
}

// mulInt64 returns a*b and whether it did not overflow.
func mulInt64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	p := a * b
	if p/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return p, true
}

// ---- $subtract ----

func subtractValues(a, b any) (any, error) {
	ra, rb := numRank(a), numRank(b)
	if ra != rankNone && rb != rankNone {
		switch max(ra, rb) {
		case rankDecimal:
			res := new(apd.Decimal)
			_, _ = decimalCtx(apd.RoundHalfEven).Sub(res, decimalOf(a), decimalOf(b))
			return dec128(res), nil
		case rankDouble:
			return numDouble(a) - numDouble(b), nil
		case rankLong:
			x, _ := int64Of(a)
			y, _ := int64Of(b)
			d := x - y
			if (x >= 0) != (y >= 0) && (d >= 0) != (x >= 0) {
				return numDouble(a) - numDouble(b), nil
			}
			return d, nil
		default:
			x, _ := int64Of(a)
			y, _ := int64Of(b)
			return intOrLong(x - y), nil
		}
	}
	if value.IsNullish(a) || value.IsNullish(b) {
		return nil, nil
	}
	date, ok := a.(bson.DateTime)
	if !ok {
		return nil, mongoerr.Newf(mongoerr.TypeMismatch, "can't $subtract %s from %s", typeName(b), typeName(a))
	}
	ms := int64(date)
	var n int64
	switch y := b.(type) {
	case bson.DateTime:
		return ms - int64(y), nil
	case int32:
		n = int64(y)
	case int64:
		n = y
	case float64:
		if !(y >= -9.223372036854775808e18 && y < 9.223372036854775808e18) {
			return nil, errDateOverflow
		}
		n = int64(math.Round(y))
	case bson.Decimal128:
		var ok bool
		if n, ok = decimalToInt64(decimalOf(y), apd.RoundHalfUp); !ok {
			return nil, errDateOverflow
		}
	default:
		return nil, mongoerr.Newf(mongoerr.TypeMismatch, "can't $subtract %s from Date", typeName(b))
	}
	d := ms - n
	if (ms >= 0) != (n >= 0) && (d >= 0) != (ms >= 0) {
		return nil, errDateOverflow
	}
	return bson.DateTime(d), nil
}

// ---- $divide ----

func divideValues(a, b any) (any, error) {
	ra, rb := numRank(a), numRank(b)
	if ra != rankNone && rb != rankNone {
		if ra == rankDecimal || rb == rankDecimal {
			den := decimalOf(b)
			if decimalZero(den) {
				return nil, mongoerr.Newf(mongoerr.BadValue, "can't $divide by zero")
			}
			return value.Divide(dec128(decimalOf(a)), dec128(den))
		}
		den := numDouble(b)
		if den == 0 {
			return nil, mongoerr.Newf(mongoerr.BadValue, "can't $divide by zero")
		}
		return numDouble(a) / den, nil
	}
	if value.IsNullish(a) || value.IsNullish(b) {
		return nil, nil
	}
	return nil, mongoerr.Newf(mongoerr.TypeMismatch, "$divide only supports numeric types, not %s and %s", typeName(a), typeName(b))
}

// ---- $mod ----

// modValues follows MongoDB 7.2+, where the result has the wider operand type.
func modValues(a, b any) (any, error) {
	ra, rb := numRank(a), numRank(b)
	if ra != rankNone && rb != rankNone {
		if ra == rankDecimal || rb == rankDecimal {
			den := decimalOf(b)
			if decimalZero(den) {
				return nil, mongoerr.Newf(5733415, "can't $mod by zero")
			}
			res := new(apd.Decimal)
			_, _ = decimalCtx(apd.RoundHalfEven).Rem(res, decimalOf(a), den)
			return dec128(res), nil
		}
		den := numDouble(b)
		if den == 0 {
			return nil, mongoerr.Newf(16610, "can't $mod by zero")
		}
		if ra == rankDouble || rb == rankDouble {
			return math.Mod(numDouble(a), den), nil
		}
		x, _ := int64Of(a)
		y, _ := int64Of(b)
		rem := int64(0)
		if y != -1 {
			rem = x % y
		}
		if ra == rankLong || rb == rankLong {
			return rem, nil
		}
		return int32(rem), nil
	}
	if value.IsNullish(a) || value.IsNullish(b) {
		return nil, nil
	}
	return nil, mongoerr.Newf(16611, "$mod only supports numeric types, not %s and %s", typeName(a), typeName(b))
}

// ---- $pow ----

func powValues(base, exp any) (any, error) {
	if value.IsNullish(base) || value.IsNullish(exp) {
		return nil, nil
	}
	rb, re := numRank(base), numRank(exp)
	if rb == rankNone {
		return nil, mongoerr.Newf(28762, "$pow's base must be numeric, not %s", typeName(base))
	}
	if re == rankNone {
		return nil, mongoerr.Newf(28763, "$pow's exponent must be numeric, not %s", typeName(exp))
	}
	zeroNeg := mongoerr.Newf(28764, "$pow cannot take a base of 0 and a negative exponent")
	if rb == rankDecimal || re == rankDecimal {
		b, e := decimalOf(base), decimalOf(exp)
		if decimalZero(b) && e.Sign() < 0 {
			return nil, zeroNeg
		}
		res := new(apd.Decimal)
		_, _ = decimalCtx(apd.RoundHalfEven).Pow(res, b, e)
		return dec128(res), nil
	}
	bf, ef := numDouble(base), numDouble(exp)
	if bf == 0 && ef < 0 {
		return nil, zeroNeg
	}
	if rb == rankDouble || re == rankDouble {
		return math.Pow(bf, ef), nil
	}
	format := func(n int64) any {
		if rb == rankLong || re == rankLong {
			return n
		}
		return intOrLong(n)
	}
	b, _ := int64Of(base)
	e, _ := int64Of(exp)
	switch {
	case b == 0:
		if e == 0 {
			return format(1), nil
		}
		return format(0), nil
	case b == 1:
		return format(1), nil
	case b == -1:
		if e%2 == 0 {
			return format(1), nil
		}
		return format(-1), nil
	case e < 0 || e > 63:
		return math.Pow(float64(b), float64(e)), nil
	}
	res := int64(1)
	for i := int64(0); i < e; i++ {
		p, ok := mulInt64(res, b)
		if !ok {
			return math.Pow(float64(b), float64(e)), nil
		}
		res = p
	}
	return format(res), nil
}

// ---- single-operand functions ----

func absValue(v any) (any, error) {
	switch x := v.(type) {
	case float64:
		return math.Abs(x), nil
	case bson.Decimal128:
		d := decimalOf(x)
		d.Negative = false
		return dec128(d), nil
	case int64:
		if x == math.MinInt64 {
			return nil, mongoerr.Newf(28680, "can't take $abs of long long min")
		}
		if x < 0 {
			x = -x
		}
		return x, nil
	}
	n, _ := int64Of(v)
	if n < 0 {
		n = -n
	}
	return intOrLong(n), nil
}

// integralPart implements $ceil and $floor: integers are returned unchanged, decimals are
// rounded to exponent 0.
func integralPart(v any, r apd.Rounder, f func(float64) float64) any {
	switch x := v.(type) {
	case float64:
		return f(x)
	case bson.Decimal128:
		return dec128(quantizeDecimal(decimalOf(x), 0, r))
	}
	return v
}

func expValue(v any) (any, error) {
	if x, ok := v.(bson.Decimal128); ok {
		res := new(apd.Decimal)
		_, _ = decimalCtx(apd.RoundHalfEven).Exp(res, decimalOf(x))
		return dec128(res), nil
	}
	return math.Exp(numDouble(v)), nil
}

func lnValue(v any) (any, error) {
	if x, ok := v.(bson.Decimal128); ok {
		d := decimalOf(x)
		if c, ok := decimalCmpInt(d, 0); ok && c > 0 {
			res := new(apd.Decimal)
			_, _ = decimalCtx(apd.RoundHalfEven).Ln(res, d)
			return dec128(res), nil
		}
	}
	f := numDouble(v)
	if !(f > 0 || math.IsNaN(f)) {
		return nil, mongoerr.Newf(28766, "$ln's argument must be a positive number, but is %s", formatDouble(f))
	}
	return math.Log(f), nil
}

func log10Value(v any) (any, error) {
	if x, ok := v.(bson.Decimal128); ok {
		d := decimalOf(x)
		if c, ok := decimalCmpInt(d, 0); ok && c > 0 {
			res := new(apd.Decimal)
			_, _ = decimalCtx(apd.RoundHalfEven).Log10(res, d)
			return dec128(res), nil
		}
	}
	f := numDouble(v)
	if !(f > 0 || math.IsNaN(f)) {
		return nil, mongoerr.Newf(28761, "$log10's argument must be a positive number, but is %s", formatDouble(f))
	}
	return log10Double(f), nil
}

// log10Double is log10 with exact results for exact powers of ten, as the C library gives.
func log10Double(f float64) float64 {
	r := math.Log10(f)
	if k := math.Round(r); k != r && math.Abs(k) <= 308 && math.Pow(10, k) == f {
		return k
	}
	return r
}

func logValues(arg, base any) (any, error) {
	if value.IsNullish(arg) || value.IsNullish(base) {
		return nil, nil
	}
	if !value.IsNumber(arg) {
		return nil, mongoerr.Newf(28756, "$log's argument must be numeric, not %s", typeName(arg))
	}
	if !value.IsNumber(base) {
		return nil, mongoerr.Newf(28757, "$log's base must be numeric, not %s", typeName(base))
	}
	if numRank(arg) == rankDecimal || numRank(base) == rankDecimal {
		a, b := decimalOf(arg), decimalOf(base)
		ca, okA := decimalCmpInt(a, 0)
		cb, okB := decimalCmpInt(b, 0)
		c1, _ := decimalCmpInt(b, 1)
		if okA && okB && ca > 0 && cb > 0 && c1 != 0 {
			return dec128(decimalLog(a, b)), nil
		}
	}
	x, y := numDouble(arg), numDouble(base)
	if !(x > 0 || math.IsNaN(x)) {
		return nil, mongoerr.Newf(28758, "$log's argument must be a positive number, but is %s", formatDouble(x))
	}
	if !(y > 0 && y != 1 || math.IsNaN(y)) {
		return nil, mongoerr.Newf(28759, "$log's base must be a positive number not equal to 1, but is %s", formatDouble(y))
	}
	return math.Log(x) / math.Log(y), nil
}

// decimalLog returns log base b of a, computed with guard digits.
func decimalLog(a, b *apd.Decimal) *apd.Decimal {
	c := decimalCtx(apd.RoundHalfEven).WithPrecision(50)
	var la, lb, q apd.Decimal
	_, _ = c.Ln(&la, a)
	_, _ = c.Ln(&lb, b)
	_, _ = c.Quo(&q, &la, &lb)
	return &q
}

func sqrtValue(v any) (any, error) {
	errNeg := mongoerr.Newf(28714, "$sqrt's argument must be greater than or equal to 0")
	if x, ok := v.(bson.Decimal128); ok {
		d := decimalOf(x)
		if c, ok := decimalCmpInt(d, 0); ok && c < 0 {
			return nil, errNeg
		}
		res := new(apd.Decimal)
		_, _ = decimalCtx(apd.RoundHalfEven).Sqrt(res, d)
		exactRootExponent(res, d)
		return dec128(res), nil
	}
	f := numDouble(v)
	if f < 0 {
		return nil, errNeg
	}
	return math.Sqrt(f), nil
}

// exactRootExponent gives an exact square root the exponent IEEE 754 prefers, half the
// operand's (rounded down), so sqrt(4) is 2 rather than 2.000…0.
func exactRootExponent(root, x *apd.Decimal) {
	if root.Form != apd.Finite || x.Form != apd.Finite {
		return
	}
	var sq apd.Decimal
	if _, err := workCtx(80).Mul(&sq, root, root); err != nil || sq.Cmp(x) != 0 {
		return
	}
	ideal := x.Exponent / 2
	if x.Exponent < 0 && x.Exponent%2 != 0 {
		ideal--
	}
	root.Reduce(root)
	if root.Exponent > ideal {
		if q := quantizeDecimal(root, ideal, apd.RoundHalfEven); q.Form == apd.Finite {
			root.Set(q)
		}
	}
}

// ---- $round and $trunc ----

type roundNode struct {
	name  string
	arg   node
	place node // nil when not given
	mode  apd.Rounder
}

func parseRound(name string, mode apd.Rounder, args any, sc *scope) (node, error) {
	ops, err := rangeOperands(name, 1, 2, args, sc)
	if err != nil {
		return nil, err
	}
	n := &roundNode{name: name, arg: ops[0], mode: mode}
	if len(ops) == 2 {
		n.place = ops[1]
	}
	return foldConstant(n, ops...)
}

func (n *roundNode) eval(c *ctx) (any, error) {
	v, err := n.arg.eval(c)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(v) {
		return nil, nil
	}
	if !value.IsNumber(v) {
		return nil, mongoerr.Newf(51081, "%s only supports numeric types, not %s", n.name, typeName(v))
	}
	place := int64(0)
	if n.place != nil {
		p, err := n.place.eval(c)
		if err != nil {
			return nil, err
		}
		if value.IsNullish(p) {
			return nil, nil
		}
		if !value.IsNumber(p) {
			return nil, mongoerr.Newf(16004, "can't convert from BSON type %s to long", typeName(p))
		}
		pi, ok := int32Of(p)
		if !ok {
			return nil, mongoerr.Newf(51082, "precision argument to  %s must be a integral value", n.name)
		}
		place = int64(pi)
		if place < -20 || place > 100 {
			return nil, mongoerr.Newf(51083, "cannot apply %s with precision value %d value must be in [-20, 100]", n.name, place)
		}
	}
	exp := int32(-place)
	switch x := v.(type) {
	case bson.Decimal128:
		d := decimalOf(x)
		if d.Form == apd.Infinite {
			return x, nil
		}
		return dec128(quantizeDecimal(d, exp, n.mode)), nil
	case float64:
		if math.IsInf(x, 0) {
			return x, nil
		}
		if math.IsNaN(x) {
			return x, nil
		}
		return decimalToDouble(quantizeDecimal(decimalFromDouble34(x), exp, n.mode)), nil
	}
	if place >= 0 {
		return v, nil
	}
	i, _ := int64Of(v)
	out, ok := decimalToInt64(quantizeDecimal(apd.New(i, 0), exp, n.mode), apd.RoundDown)
	if !ok {
		return nil, mongoerr.Newf(51080, "invalid conversion from Decimal128 result in %s resulting from arguments: [%d, %d]", n.name, i, place)
	}
	if _, isLong := v.(int64); isLong || out > math.MaxInt32 {
		return out, nil
	}
	return int32(out), nil
}
