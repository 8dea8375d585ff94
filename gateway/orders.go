package gateway

import (
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontdesk/frontdesk/orders"
)

// newOrderSource returns the configured order system.
func newOrderSource(cfg OrdersConfig, pool *pgxpool.Pool) (orders.Source, error) {
	return orders.NewPostgres(pool), nil
}
