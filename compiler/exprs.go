package compiler

import (
	"fmt"
	"reflect"
	"time"

	"github.com/modjo-orm/modjo/expr"
	"github.com/modjo-orm/modjo/fields"
	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// operand is a compiled expression: the aggregation expression and the kind of value it
// yields (0 when unknown). lit holds the Go constant of a Value node, for rules that
// depend on it (a duration added to a date is converted to milliseconds).
type operand struct {
	v     any
	kind  fields.Kind
	lit   any
	isLit bool
}

// exprCompiler compiles expression trees for one model and records the stored paths the
// expression reads, for the null guards of filters.
type exprCompiler struct {
	m      *model.Meta
	guards []string
}

// nodeCompiler lowers one type of expression node.
type nodeCompiler func(ec *exprCompiler, n expr.Node) (operand, error)

// nodeCompilers maps node types to their compilers. Features that add node types
// (functions, aggregates, conditional expressions, subqueries) register them here with
// registerNode, in an init function of their own file.
var nodeCompilers = map[reflect.Type]nodeCompiler{}

// registerNode makes the compiler lower nodes of type T with fn.
func registerNode[T expr.Node](fn func(ec *exprCompiler, n T) (operand, error)) {
	nodeCompilers[reflect.TypeFor[T]()] = func(ec *exprCompiler, n expr.Node) (operand, error) { return fn(ec, n.(T)) }
}

func init() {
	registerNode(compileFieldRef)
	registerNode(compileConstant)
	registerNode(compileArithmetic)
}

// compile lowers a node to an aggregation expression.
func (ec *exprCompiler) compile(n expr.Node) (operand, error) {
	for {
		e, ok := n.(expr.Expr)
		if !ok {
			break
		}
		n = e.Node
	}
	if n == nil {
		return operand{}, fmt.Errorf("modjo: %s: an empty expression (the zero expr.Expr)", ec.m.Name)
	}
	fn := nodeCompilers[reflect.TypeOf(n)]
	if fn == nil {
		return operand{}, fmt.Errorf("%w: %s: the expression %s (%T) has no MongoDB form", model.ErrNotSupported, ec.m.Name, expr.Describe(n), n)
	}
	return fn(ec, n)
}

// guard records that the expression reads a stored path.
func (ec *exprCompiler) guard(path string) {
	for _, g := range ec.guards {
		if g == path {
			return
		}
	}
	ec.guards = append(ec.guards, path)
}

// guarded returns a filter: {path: {$ne: null}} for every path read, then {$expr: cond}.
func (ec *exprCompiler) guarded(cond any) bson.D {
	d := make(bson.D, 0, len(ec.guards)+1)
	for _, g := range ec.guards {
		d = append(d, bson.E{Key: g, Value: bson.D{{Key: "$ne", Value: nil}}})
	}
	return append(d, bson.E{Key: "$expr", Value: cond})
}

// targetExpr is the expression of a lookup's left side: the field, through its
// transforms.
func (ec *exprCompiler) targetExpr(t *target) any {
	ec.guard(t.stored)
	var x any = "$" + t.stored
	in := t.field.Kind
	for _, tr := range t.transforms() {
		x = tr.expr(in, x)
		in = tr.output
	}
	return x
}

// literal wraps a constant so that the server takes it as data: a string "$x" is not a
// field path, a document {$ne: 1} is not an operator.
func literal(v any) bson.D { return bson.D{{Key: "$literal", Value: v}} }

func compileFieldRef(ec *exprCompiler, n expr.FieldRef) (operand, error) {
	t, err := parseKey(ec.m, n.Name, false)
	if err != nil {
		return operand{}, err
	}
	return operand{v: ec.targetExpr(&t), kind: t.kind}, nil
}

func compileConstant(ec *exprCompiler, n expr.Constant) (operand, error) {
	v, kind, err := constant(n.Value)
	if err != nil {
		return operand{}, fmt.Errorf("modjo: %s: %w", ec.m.Name, err)
	}
	return operand{v: literal(v), kind: kind, lit: n.Value, isLit: true}, nil
}

var arithmeticOps = map[expr.Operator]string{
	expr.OpAdd: "$add", expr.OpSub: "$subtract", expr.OpMul: "$multiply",
	expr.OpDiv: "$divide", expr.OpMod: "$mod", expr.OpPow: "$pow",
}

// isNumeric reports a numeric kind; a constant of unknown kind is not one.
func isNumeric(k fields.Kind) bool { return k.IsNumeric() }

func isDate(k fields.Kind) bool { return k == fields.DateTimeField || k == fields.DateField }

// compileArithmetic lowers arithmetic with MongoDB's numeric rules ($divide gives a
// double; int32 overflow widens). Dates and durations follow Django's combinations: a
// date plus or minus a duration is a date, the difference of two dates a duration (in
// nanoseconds, as DurationField stores it), and durations add, subtract and scale.
func compileArithmetic(ec *exprCompiler, n expr.Arithmetic) (operand, error) {
	op, ok := arithmeticOps[n.Op]
	if !ok {
		return operand{}, fmt.Errorf("%w: %s: arithmetic operator %q", model.ErrNotSupported, ec.m.Name, n.Op)
	}
	l, err := ec.compile(n.Left)
	if err != nil {
		return operand{}, err
	}
	r, err := ec.compile(n.Right)
	if err != nil {
		return operand{}, err
	}
	pair := func(a, b any) bson.D { return bson.D{{Key: op, Value: bson.A{a, b}}} }
	dur := fields.DurationField
	switch {
	case isNumeric(l.kind) && isNumeric(r.kind):
		return operand{v: pair(l.v, r.v), kind: numericResult(n.Op, l.kind, r.kind)}, nil
	case isDate(l.kind) && r.kind == dur && (n.Op == expr.OpAdd || n.Op == expr.OpSub):
		return operand{v: pair(l.v, millis(r)), kind: fields.DateTimeField}, nil
	case l.kind == dur && isDate(r.kind) && n.Op == expr.OpAdd:
		return operand{v: pair(millis(l), r.v), kind: fields.DateTimeField}, nil
	case isDate(l.kind) && isDate(r.kind) && n.Op == expr.OpSub:
		ms := pair(l.v, r.v)
		return operand{v: bson.D{{Key: "$multiply", Value: bson.A{ms, int64(time.Millisecond)}}}, kind: dur}, nil
	case l.kind == dur && r.kind == dur && (n.Op == expr.OpAdd || n.Op == expr.OpSub):
		return operand{v: pair(l.v, r.v), kind: dur}, nil
	case l.kind == dur && isNumeric(r.kind) && (n.Op == expr.OpMul || n.Op == expr.OpDiv):
		return operand{v: pair(l.v, r.v), kind: dur}, nil
	case isNumeric(l.kind) && r.kind == dur && n.Op == expr.OpMul:
		return operand{v: pair(l.v, r.v), kind: dur}, nil
	}
	return operand{}, fmt.Errorf("%w: %s: %s combines %s and %s", model.ErrNotSupported, ec.m.Name, expr.Describe(n),
		kindName(l.kind), kindName(r.kind))
}

// numericResult is the kind of a numeric operation: division and powers give floats
// (MongoDB's $divide always does), and mixing in a float or decimal widens the result.
func numericResult(op expr.Operator, a, b fields.Kind) fields.Kind {
	switch {
	case a == fields.DecimalField || b == fields.DecimalField:
		return fields.DecimalField
	case op == expr.OpDiv, a == fields.FloatField, b == fields.FloatField:
		return fields.FloatField
	}
	return fields.BigIntegerField
}

// millis converts a duration operand (nanoseconds) to the milliseconds $add and
// $subtract take with a date.
func millis(o operand) any {
	if o.isLit {
		if d, ok := o.lit.(time.Duration); ok {
			return literal(d.Milliseconds())
		}
	}
	return bson.D{{Key: "$toLong", Value: bson.D{{Key: "$divide", Value: bson.A{o.v, int64(time.Millisecond)}}}}}
}

func kindName(k fields.Kind) string {
	if k == 0 {
		return "a value of unknown type"
	}
	return k.String()
}
