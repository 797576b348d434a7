from lightning_nlp.cli.main import main

main()
