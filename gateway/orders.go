package gateway

import (
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontdesk/frontdesk/orders"
	"github.com/frontdesk/frontdesk/orders/shopify"
)

// newOrderSource returns the configured order system.
func newOrderSource(cfg OrdersConfig, pool *pgxpool.Pool) orders.Source {
	if cfg.Source == "shopify" {
		return shopify.New(shopify.Config{
			BaseURL:     cfg.Shopify.ShopURL,
			AccessToken: cfg.Shopify.AccessToken,
			APIVersion:  cfg.Shopify.APIVersion,
		})
	}
	return orders.NewPostgres(pool)
}
