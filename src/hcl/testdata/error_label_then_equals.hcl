path "secret/*" = 1
