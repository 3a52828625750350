package expr

import "fmt"

// Node is a node of an expression tree. The compiler lowers each node type; features
// add node types rather than change existing ones.
type Node interface {
	node()
}

// Expr is an expression with the fluent methods of Django's expressions: arithmetic and
// ordering. It wraps a Node; the zero Expr has none and is not valid.
type Expr struct {
	Node
}

// FieldRef refers to a field of the model by lookup name; through relations and embedded
// documents with "__" ("author__name", "shop__city").
type FieldRef struct {
	Name string
}

func (FieldRef) node() {}

// Constant is a value given to the database as data.
type Constant struct {
	Value any
}

func (Constant) node() {}

// Operator names an arithmetic operation.
type Operator string

// Arithmetic operators, as Django's combinable expressions have them.
const (
	OpAdd Operator = "+"
	OpSub Operator = "-"
	OpMul Operator = "*"
	OpDiv Operator = "/"
	OpMod Operator = "%"
	OpPow Operator = "^"
)

// Arithmetic combines two expressions.
type Arithmetic struct {
	Op          Operator
	Left, Right Node
}

func (Arithmetic) node() {}

// F refers to a field of the model, so a query compares fields with each other or an
// update computes from the stored value: F("views").Add(1).
func F(name string) Expr { return Expr{FieldRef{Name: name}} }

// Value wraps a constant so it can be combined with other expressions.
func Value(v any) Expr { return Expr{Constant{Value: v}} }

// NodeOf returns the node for an expression operand: an Expr's node, a Node itself, or
// a Constant for any other value.
func NodeOf(v any) Node {
	switch x := v.(type) {
	case Expr:
		return x.Node
	case Node:
		return x
	}
	return Constant{Value: v}
}

func (e Expr) arith(op Operator, x any) Expr {
	return Expr{Arithmetic{Op: op, Left: e.Node, Right: NodeOf(x)}}
}

// Add returns e + x; x is a number or another expression.
func (e Expr) Add(x any) Expr { return e.arith(OpAdd, x) }

// Sub returns e - x.
func (e Expr) Sub(x any) Expr { return e.arith(OpSub, x) }

// Mul returns e * x.
func (e Expr) Mul(x any) Expr { return e.arith(OpMul, x) }

// Div returns e / x.
func (e Expr) Div(x any) Expr { return e.arith(OpDiv, x) }

// Mod returns the remainder of e / x.
func (e Expr) Mod(x any) Expr { return e.arith(OpMod, x) }

// Pow returns e raised to the power x.
func (e Expr) Pow(x any) Expr { return e.arith(OpPow, x) }

// String renders the expression for messages and debugging.
func (e Expr) String() string { return Describe(e.Node) }

// Describe renders a node in Django's style: F(pages) * 10.
func Describe(n Node) string {
	switch x := n.(type) {
	case nil:
		return "<nil>"
	case Expr:
		return Describe(x.Node)
	case FieldRef:
		return "F(" + x.Name + ")"
	case Constant:
		return fmt.Sprintf("Value(%v)", x.Value)
	case Arithmetic:
		return "(" + Describe(x.Left) + " " + string(x.Op) + " " + Describe(x.Right) + ")"
	}
	if s, ok := n.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", n)
}

// Set maps field names to the values an update writes: constants or expressions
// computed from the stored document (Set{"views": F("views").Add(1)}).
type Set map[string]any
