package compiler

import (
	"testing"

	"github.com/modjo-orm/modjo/expr"
)

// BenchmarkCompileTypical compiles a typical QuerySet: three filters, one of them an OR,
// an ordering and a limit. Target: ≤ 3 µs and ≤ 30 allocations.
func BenchmarkCompileTypical(b *testing.B) {
	m := metaOf(b, Book{})
	q := &Query{
		Meta: m,
		Where: expr.And(
			expr.Q{"title__icontains": "go"},
			expr.Or(expr.Q{"pages__gte": 100}, expr.Q{"published__year": 2020}),
		),
		Order: []any{expr.F("published").Desc(), expr.F("title").Asc()},
		Limit: 20,
	}
	if _, err := Select(q); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Select(q); err != nil {
			b.Fatal(err)
		}
	}
}
