"""Pure helpers every layer may use: dates, ids, text, vehicle rules, errors, paging and
the inventory field table. Nothing here imports the rest of Forecourt."""
