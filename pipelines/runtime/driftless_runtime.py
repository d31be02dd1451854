# placeholder: the shared PySpark runtime
