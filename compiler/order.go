package compiler

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/modjo-orm/modjo/expr"
	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Helper keys added by pipelines for sorting, removed before documents are returned.
// The prefix keeps them apart from stored keys.
const (
	helperPrefix = "__modjo_"
	randomKey    = helperPrefix + "r"
)

// orderTerm is one resolved sort term.
type orderTerm struct {
	random bool
	path   string // stored path of a plain field ("" for an expression)
	value  any    // the expression to sort by, when path is ""
	desc   bool
	// nullsLast / nullsFirst move null and missing values away from MongoDB's default
	// (first ascending, last descending); at most one is set.
	nullsLast, nullsFirst bool
}

// plain reports a term a sort document can express directly.
func (o *orderTerm) plain() bool { return !o.random && o.path != "" && !o.nullsLast && !o.nullsFirst }

// Sort directions, boxed once.
var (
	ascending  any = int32(1)
	descending any = int32(-1)
)

func (o *orderTerm) dir() any {
	if o.desc {
		return descending
	}
	return ascending
}

// defaultOrders caches each model's parsed Options.Ordering.
var defaultOrders sync.Map // *model.Meta → []any

// modelOrdering returns the model's default ordering terms ("-published",
// "shop.city").
func modelOrdering(m *model.Meta) []any {
	if v, ok := defaultOrders.Load(m); ok {
		return v.([]any)
	}
	terms := make([]any, 0, len(m.Options.Ordering))
	for _, s := range m.Options.Ordering {
		o := expr.ParseOrdering(s)
		if ord, ok := o.(expr.Ordering); ok {
			if ref, ok := ord.Expr.(expr.FieldRef); ok {
				ref.Name = strings.ReplaceAll(ref.Name, ".", "__")
				ord.Expr = ref
			}
			o = ord
		}
		terms = append(terms, o)
	}
	defaultOrders.Store(m, terms)
	return terms
}

// orderTerms resolves ordering terms: expr.Ordering, expr.Random{}, a string in Django's
// form ("-name", "?"), or an expression (ascending). nil means the model's ordering;
// reverse flips every term and its null placement. A later term on a path already
// sorted by is dropped.
func orderTerms(m *model.Meta, order []any, reverse bool) ([]orderTerm, error) {
	if order == nil {
		order = modelOrdering(m)
	}
	if len(order) == 0 {
		return nil, nil
	}
	terms := make([]orderTerm, 0, len(order))
	for _, raw := range order {
		var o expr.Ordering
		switch x := raw.(type) {
		case expr.Random:
			terms = append(terms, orderTerm{random: true})
			continue
		case string:
			p := expr.ParseOrdering(x)
			if _, ok := p.(expr.Random); ok {
				terms = append(terms, orderTerm{random: true})
				continue
			}
			o = p.(expr.Ordering)
		case expr.Ordering:
			o = x
		case expr.Expr:
			o = x.Asc()
		case expr.Node:
			o = expr.Ordering{Expr: x}
		default:
			return nil, fmt.Errorf("modjo: %s: cannot order by a %T (want expr.Ordering, expr.Random or \"-field\")", m.Name, raw)
		}
		if reverse {
			o = o.Reverse()
		}
		t := orderTerm{desc: o.Desc}
		n := o.Expr
		if e, ok := n.(expr.Expr); ok {
			n = e.Node
		}
		if ref, ok := n.(expr.FieldRef); ok {
			ft, err := parseKey(m, ref.Name, false)
			if err != nil {
				return nil, err
			}
			if ft.ntrans == 0 {
				t.path = ft.stored
			} else {
				ec := exprCompiler{m: m}
				t.value = ec.targetExpr(&ft)
			}
		} else {
			ec := exprCompiler{m: m}
			v, err := ec.compile(n)
			if err != nil {
				return nil, err
			}
			t.value = v.v
		}
		switch {
		case o.Nulls == expr.NullsLast && !o.Desc:
			t.nullsLast = true
		case o.Nulls == expr.NullsFirst && o.Desc:
			t.nullsFirst = true
		}
		if t.path != "" && hasPath(terms, t.path) {
			continue
		}
		terms = append(terms, t)
	}
	return terms, nil
}

func hasPath(terms []orderTerm, path string) bool {
	for i := range terms {
		if terms[i].path == path {
			return true
		}
	}
	return false
}

// SortDoc compiles an ordering to a plain sort document: terms are expr.Ordering values,
// expr.Random{} or strings ("-published"); nil means the model's Options.Ordering, and
// an empty non-nil slice no ordering. reverse flips every term. An ordering a sort
// document cannot express (random, nulls placement, expressions) is an error wrapping
// model.ErrNotSupported: Select handles those with pipeline stages.
func SortDoc(m *model.Meta, order []any, reverse bool) (bson.D, error) {
	if m == nil {
		return nil, errNoMeta
	}
	terms, err := orderTerms(m, order, reverse)
	if err != nil {
		return nil, err
	}
	d := make(bson.D, 0, len(terms))
	for i := range terms {
		if !terms[i].plain() {
			return nil, fmt.Errorf("%w: %s: this ordering needs an aggregation pipeline (random order, nulls placement or an expression)", model.ErrNotSupported, m.Name)
		}
		d = append(d, bson.E{Key: terms[i].path, Value: terms[i].dir()})
	}
	return d, nil
}

// sortStages is what a pipeline needs to sort by terms: fields to add before the $sort,
// the sort document, and the helper keys to remove afterwards. key(i) gives the sort key
// of a non-random term and the expression its helpers read.
type sortStages struct {
	add     bson.D
	sort    bson.D
	helpers []string
}

func buildSort(terms []orderTerm, key func(i int) (path string, value any)) sortStages {
	var s sortStages
	s.sort = make(bson.D, 0, len(terms))
	for i := range terms {
		t := &terms[i]
		if t.random {
			if !hasKey(s.add, randomKey) {
				s.add = append(s.add, bson.E{Key: randomKey, Value: bson.D{{Key: "$rand", Value: bson.D{}}}})
				s.helpers = append(s.helpers, randomKey)
				s.sort = append(s.sort, bson.E{Key: randomKey, Value: int32(1)})
			}
			continue
		}
		path, value := key(i)
		if t.nullsLast || t.nullsFirst {
			// true for null and missing; sorted after (or before) the others.
			nk := helperPrefix + "n" + strconv.Itoa(i)
			isNull := bson.D{{Key: "$in", Value: bson.A{bson.D{{Key: "$type", Value: value}}, bson.A{"missing", "null"}}}}
			s.add = append(s.add, bson.E{Key: nk, Value: isNull})
			s.helpers = append(s.helpers, nk)
			dir := ascending
			if t.nullsFirst {
				dir = descending
			}
			s.sort = append(s.sort, bson.E{Key: nk, Value: dir})
		}
		if path == "" {
			path = helperPrefix + "o" + strconv.Itoa(i)
			s.add = append(s.add, bson.E{Key: path, Value: value})
			s.helpers = append(s.helpers, path)
		}
		if !hasKey(s.sort, path) {
			s.sort = append(s.sort, bson.E{Key: path, Value: t.dir()})
		}
	}
	return s
}

func hasKey(d bson.D, k string) bool {
	for _, e := range d {
		if e.Key == k {
			return true
		}
	}
	return false
}
